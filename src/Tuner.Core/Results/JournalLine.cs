using System.Text;
using System.Text.Json;

namespace Tuner.Core.Results;

/// <summary>One line of an experiment's <c>journal.jsonl</c>: a JSON object whose first property, <c>event</c>, says what it records.</summary>
public static class JournalLine
{
    public static void Write(TextWriter log, string kind, Action<Utf8JsonWriter> body)
    {
        if (log is JournalWriter journal)
        {
            journal.WriteLine(kind, body);
            return;
        }

        using var stream = new MemoryStream(256);
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = ResultJson.Encoder }))
        {
            w.WriteStartObject();
            w.WriteString("event", kind);
            body(w);
            w.WriteEndObject();
        }

        log.WriteLine(Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length));
    }
}
