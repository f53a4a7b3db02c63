using System.Globalization;
using System.Text.Json;
using Tuner.Core.Experiments;
using Tuner.Core.Schedulers;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Results;

/// <summary>
/// The experiment's write-ahead log, <c>journal.jsonl</c> in its run folder: one JSON line per thing
/// that changed its state, in the order it happened, flushed with the folder's other files. It holds
/// the spec (first line), every event watchers see (with its position), the searcher's and the
/// scheduler's journals (<see cref="Tuner.Core.Search.SearcherJournal"/>, <see cref="SchedulerJournal"/>),
/// each run a trial was given, and what a user's stop interrupted. One file, so that whatever
/// survives a crash is a consistent prefix: after a kill the experiment is rebuilt from it
/// (<see cref="Read"/>), and a line cut short is dropped.
/// </summary>
public static class ExperimentJournal
{
    public const string FileName = RunJournal.FileName;

    /// <summary>An event line's names, escaped once (a line a result).</summary>
    private static class Names
    {
        public static readonly JsonEncodedText Position = JsonEncodedText.Encode("position", ResultJson.Encoder);
        public static readonly JsonEncodedText Time = JsonEncodedText.Encode("time", ResultJson.Encoder);
        public static readonly JsonEncodedText Kind = JsonEncodedText.Encode("kind", ResultJson.Encoder);
        public static readonly JsonEncodedText Trial = JsonEncodedText.Encode("trial", ResultJson.Encoder);
        public static readonly JsonEncodedText Status = JsonEncodedText.Encode("status", ResultJson.Encoder);
        public static readonly JsonEncodedText Result = JsonEncodedText.Encode("result", ResultJson.Encoder);
    }

    public static void WriteStart(TextWriter log, string experimentId, ExperimentSpec spec, DateTimeOffset startedAt) =>
        Write(log, "start", w =>
        {
            w.WriteString("id", experimentId);
            w.WriteString("started_at", startedAt.ToString("O", CultureInfo.InvariantCulture));
            w.WritePropertyName("spec");
            SpecWriter.Write(w, spec);
        });

    public static void WriteEvent(TextWriter log, ExperimentEvent e) =>
        Write(log, "experiment", w =>
        {
            w.WriteNumber(Names.Position, e.Position);
            w.WriteString(Names.Time, e.Time.ToString("O", CultureInfo.InvariantCulture));
            w.WriteString(Names.Kind, e.Kind.ToString());
            if (e.TrialId is { } trial)
            {
                w.WriteString(Names.Trial, trial);
            }

            if (e.TrialStatus is { } status)
            {
                w.WriteString(Names.Status, status.ToWire());
            }

            if (e.Result is { } result)
            {
                w.WritePropertyName(Names.Result);
                // The line names the trial already.
                ResultJson.WriteResult(w, null, result);
            }

            if (e.Config is { } config)
            {
                w.WritePropertyName("config");
                SpecWriter.WriteConfig(w, config);
            }

            if (e.Action is { } action)
            {
                w.WriteString("action", action);
            }

            if (e.Message is { } message)
            {
                w.WriteString("message", message);
            }

            if (e.ExperimentStatus is { } experimentStatus)
            {
                w.WriteString("experiment_status", experimentStatus.ToWire());
            }
        });

    /// <summary>Run <paramref name="attempt"/> of a trial was started or queued, after <paramref name="failures"/> failed runs.</summary>
    public static void WriteAttempt(TextWriter log, string trialId, int attempt, int failures) =>
        Write(log, "attempt", w =>
        {
            w.WriteString("trial", trialId);
            w.WriteNumber("attempt", attempt);
            w.WriteNumber("failures", failures);
        });

    /// <summary>The user's stop interrupted these trials (those the scheduler had paused among them); a resume continues them.</summary>
    public static void WriteInterrupted(TextWriter log, IEnumerable<string> trials, IEnumerable<string> paused) =>
        Write(log, "interrupted", w =>
        {
            w.WriteStartArray("trials");
            foreach (var id in trials)
            {
                w.WriteStringValue(id);
            }

            w.WriteEndArray();
            w.WriteStartArray("paused");
            foreach (var id in paused)
            {
                w.WriteStringValue(id);
            }

            w.WriteEndArray();
        });

    /// <summary>A completed experiment goes on to <paramref name="samples"/> configs: a restore from here replays with that many.</summary>
    public static void WriteExtended(TextWriter log, int samples) =>
        Write(log, "extended", w => w.WriteNumber("samples", samples));

    /// <summary>The samples the last <c>extended</c> line among <paramref name="lines"/> asks for; null when none does.</summary>
    public static int? ExtendedSamples(IEnumerable<JsonElement> lines) =>
        lines.LastOrDefault(l => l.GetProperty("event").GetString() == "extended") is { ValueKind: JsonValueKind.Object } last ? last.GetProperty("samples").GetInt32() : null;

    /// <summary>Whether an <c>extended</c> line comes after the experiment's last status: it completed and is to go on (not yet running again).</summary>
    public static bool ExtendPending(IReadOnlyList<JsonElement> lines)
    {
        for (var i = lines.Count - 1; i >= 0; i--)
        {
            var kind = lines[i].GetProperty("event").GetString();
            if (kind == "extended")
            {
                return true;
            }

            if (kind == "experiment" && lines[i].TryGetProperty("experiment_status", out _))
            {
                return false;
            }
        }

        return false;
    }

    public static ExperimentEvent ReadEvent(JsonElement e) => new(
        e.GetProperty("position").GetInt64(),
        DateTimeOffset.Parse(e.GetProperty("time").GetString()!, CultureInfo.InvariantCulture),
        Enum.Parse<ExperimentEventKind>(e.GetProperty("kind").GetString()!),
        e.TryGetProperty("trial", out var trial) ? trial.GetString() : null,
        e.TryGetProperty("status", out var status) ? Enum.Parse<TrialStatus>(status.GetString()!, ignoreCase: true) : null,
        e.TryGetProperty("result", out var result) ? ResultJson.ReadResult(result) : null,
        e.TryGetProperty("config", out var config) ? TrialConfigJson.Read(config) : null,
        e.TryGetProperty("action", out var action) ? action.GetString() : null,
        e.TryGetProperty("message", out var message) ? message.GetString() : null,
        e.TryGetProperty("experiment_status", out var experimentStatus) ? Enum.Parse<ExperimentStatus>(experimentStatus.GetString()!, ignoreCase: true) : null);

    /// <summary>
    /// The journal's complete lines, parsed. A last line cut short (the process was killed while it
    /// was written) is dropped and cut from the file, so that new lines follow the last whole one.
    /// </summary>
    /// <exception cref="InvalidDataException">The file does not start with the experiment's spec, or a line in the middle is not JSON.</exception>
    public static IReadOnlyList<JsonElement> Read(string path)
    {
        var lines = ReadFrom(path, 0);
        if (lines.Count == 0 || lines[0].GetProperty("event").GetString() != "start")
        {
            throw new InvalidDataException($"{path} does not start with the experiment's spec: it is not a Tuner journal, or was cut short before the experiment started");
        }

        return lines;
    }

    /// <summary>The journal's first line, the experiment's start (its id, start time and spec).</summary>
    /// <exception cref="InvalidDataException">The file does not start with the experiment's spec.</exception>
    public static JsonElement ReadStart(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        try
        {
            if (reader.ReadLine() is { } line)
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("event", out var e) && e.GetString() == "start")
                {
                    return doc.RootElement.Clone();
                }
            }
        }
        catch (JsonException)
        {
        }

        throw new InvalidDataException($"{path} does not start with the experiment's spec: it is not a Tuner journal, or was cut short before the experiment started");
    }

    /// <summary>
    /// The complete lines from byte <paramref name="offset"/> on (the tail after a snapshot), parsed; a torn last line is dropped
    /// and cut from the file, as <see cref="Read"/> does.
    /// </summary>
    /// <exception cref="InvalidDataException">A line in the middle is not JSON.</exception>
    public static IReadOnlyList<JsonElement> ReadFrom(string path, long offset)
    {
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            stream.Seek(offset, SeekOrigin.Begin);
            bytes = new byte[stream.Length - offset];
            stream.ReadExactly(bytes);
        }

        var lines = new List<JsonElement>();
        var start = 0;
        var number = 0;
        while (start < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0)
            {
                // No newline: the last line was being written when the process died.
                break;
            }

            number++;
            if (end > start)
            {
                try
                {
                    // One parse into a document of its own (no pooled buffers to give back, no copy to make).
                    var reader = new Utf8JsonReader(bytes.AsSpan(start, end - start));
                    lines.Add(JsonElement.ParseValue(ref reader));
                    if (reader.Read())
                    {
                        throw new JsonException("more than one JSON value on the line");
                    }
                }
                catch (JsonException) when (Array.IndexOf(bytes, (byte)'\n', end + 1) < 0)
                {
                    // A torn last line (its newline survived, part of its text did not).
                    break;
                }
                catch (JsonException ex)
                {
                    throw new InvalidDataException(offset == 0 ? $"{path} line {number} is not JSON: {ex.Message}" : $"{path} line {number} after byte {offset} is not JSON: {ex.Message}", ex);
                }
            }

            start = end + 1;
        }

        if (start < bytes.Length)
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
            file.SetLength(offset + start);
        }

        return lines;
    }

    private static void Write(TextWriter log, string kind, Action<Utf8JsonWriter> body) => JournalLine.Write(log, kind, body);
}
