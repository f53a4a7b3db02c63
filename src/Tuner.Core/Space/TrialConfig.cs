using System.Collections;
using System.Text.Json.Serialization;

namespace Tuner.Core.Space;

/// <summary>
/// The values one trial runs with: the sampled hyperparameters merged with the spec's fixed params.
/// Keys keep the order of the spec, so tables and files list them the way the user wrote them.
/// </summary>
[JsonConverter(typeof(TrialConfigJsonConverter))]
public sealed class TrialConfig : IReadOnlyDictionary<string, ParamValue>
{
    private readonly KeyValuePair<string, ParamValue>[] _items;

    public TrialConfig(IEnumerable<KeyValuePair<string, ParamValue>> items)
    {
        _items = items.ToArray();
    }

    public static TrialConfig Empty { get; } = new([]);

    public ParamValue this[string key] => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"the config has no parameter '{key}' (it has: {string.Join(", ", Keys)})");

    public IEnumerable<string> Keys => _items.Select(i => i.Key);

    public IEnumerable<ParamValue> Values => _items.Select(i => i.Value);

    public int Count => _items.Length;

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, out ParamValue value)
    {
        foreach (var item in _items)
        {
            if (item.Key == key)
            {
                value = item.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    public double GetDouble(string key, double fallback) => TryGetValue(key, out var v) ? v.AsDouble() : fallback;

    public long GetInteger(string key, long fallback) => TryGetValue(key, out var v) ? v.AsInteger() : fallback;

    public string GetString(string key, string fallback) => TryGetValue(key, out var v) ? v.AsString() : fallback;

    /// <summary>Returns a config with <paramref name="overrides"/> laid over this one.</summary>
    public TrialConfig With(IEnumerable<KeyValuePair<string, ParamValue>> overrides)
    {
        var list = _items.ToList();
        foreach (var (key, value) in overrides)
        {
            var index = list.FindIndex(i => i.Key == key);
            if (index >= 0)
            {
                list[index] = new(key, value);
            }
            else
            {
                list.Add(new(key, value));
            }
        }

        return new TrialConfig(list);
    }

    public IEnumerator<KeyValuePair<string, ParamValue>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, ParamValue>>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(", ", _items.Select(i => $"{i.Key}={i.Value.ToDisplayString()}"));
}

internal sealed class TrialConfigJsonConverter : JsonConverter<TrialConfig>
{
    public override TrialConfig Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
    {
        if (reader.TokenType != System.Text.Json.JsonTokenType.StartObject)
        {
            throw new System.Text.Json.JsonException("a trial config must be a JSON object");
        }

        var items = new List<KeyValuePair<string, ParamValue>>();
        while (reader.Read() && reader.TokenType != System.Text.Json.JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            reader.Read();
            items.Add(new(key, ParamValue.ReadFrom(ref reader)));
        }

        return new TrialConfig(items);
    }

    public override void Write(System.Text.Json.Utf8JsonWriter writer, TrialConfig value, System.Text.Json.JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (key, v) in value)
        {
            writer.WritePropertyName(key);
            v.WriteTo(writer);
        }

        writer.WriteEndObject();
    }
}
