using System.Runtime.InteropServices;
using System.Text.Json;

namespace Tuner.Core.Space;

/// <summary>Reads a config written by <see cref="Spec.SpecWriter.WriteConfig"/> (a JSON object of values) back.</summary>
public static class TrialConfigJson
{
    public static TrialConfig Read(JsonElement element) => Read(JsonMarshal.GetRawUtf8Value(element));

    public static TrialConfig Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        var items = new List<KeyValuePair<string, ParamValue>>();
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatException("a config must be a JSON object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            items.Add(new(name, ParamValue.ReadFrom(ref reader)));
        }

        return new TrialConfig(items);
    }
}
