using System.Globalization;
using System.Text.Json;
using Tuner.Core.Experiments;
using Tuner.Core.Spec;

namespace Tuner.Core.Results;

/// <summary>The JSON shapes of the run folder's files.</summary>
public static class ResultJson
{
    /// <summary>Files are read by people and tools, not embedded in HTML: keep '+', quotes and non-ASCII text as they are.</summary>
    public static System.Text.Encodings.Web.JavaScriptEncoder Encoder { get; } = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    // A result's names, escaped once: every row of every result writes them (the journal's line and results.jsonl's), and a
    // name given as a string is checked for characters to escape each time it is written.
    private static readonly JsonEncodedText TrainingIteration = JsonEncodedText.Encode("training_iteration", Encoder);
    private static readonly JsonEncodedText TimeTotalS = JsonEncodedText.Encode("time_total_s", Encoder);
    private static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode("timestamp", Encoder);
    private static readonly JsonEncodedText TrialId = JsonEncodedText.Encode("trial_id", Encoder);
    private static readonly JsonEncodedText IterationsSinceRestore = JsonEncodedText.Encode("iterations_since_restore", Encoder);

    // The metrics' names, escaped once each (a run reports a handful; the cache stops growing at a few thousand).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, JsonEncodedText> MetricNames = new(StringComparer.Ordinal);

    /// <summary>Writes a number; NaN and infinities become the strings "NaN", "Infinity", "-Infinity".</summary>
    public static void WriteNumber(Utf8JsonWriter w, string name, double value) => WriteNumber(w, Encoded(name), value);

    private static void WriteNumber(Utf8JsonWriter w, JsonEncodedText name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static JsonEncodedText Encoded(string name) =>
        MetricNames.TryGetValue(name, out var encoded) ? encoded
        : MetricNames.Count < 4096 ? MetricNames.GetOrAdd(name, n => JsonEncodedText.Encode(n, Encoder))
        : JsonEncodedText.Encode(name, Encoder);

    public static void WriteDecision(Utf8JsonWriter w, TrialDecision decision)
    {
        w.WriteStartObject();
        w.WriteNumber("training_iteration", decision.Iteration);
        w.WriteString("action", decision.Action);
        w.WriteString("reason", decision.Reason);
        w.WriteEndObject();
    }

    /// <summary>A result as a row of <c>results.jsonl</c>; without <paramref name="trialId"/> (a trial's own last result), no <c>trial_id</c>.</summary>
    public static void WriteResult(Utf8JsonWriter w, string? trialId, TrialResult result)
    {
        w.WriteStartObject();
        w.WriteNumber(TrainingIteration, result.TrainingIteration);
        WriteNumber(w, TimeTotalS, result.TimeTotalS);
        WriteNumber(w, Timestamp, result.Timestamp);
        if (trialId is not null)
        {
            w.WriteString(TrialId, trialId);
        }

        w.WriteNumber(IterationsSinceRestore, result.IterationsSinceRestore);
        foreach (var (key, value) in result.Metrics)
        {
            if (key is not ("training_iteration" or "time_total_s" or "timestamp" or "trial_id" or "iterations_since_restore"))
            {
                WriteNumber(w, Encoded(key), value);
            }
        }

        w.WriteEndObject();
    }

    /// <summary>Reads a result written by <see cref="WriteResult"/> (its <c>trial_id</c> is left out).</summary>
    public static TrialResult ReadResult(JsonElement element)
    {
        var metrics = new Dictionary<string, double>();
        long iteration = 0, sinceRestore = 0;
        double total = 0, timestamp = 0;
        foreach (var p in element.EnumerateObject().Where(p => p.Name != "trial_id"))
        {
            // Non-finite metrics are written as the strings "NaN", "Infinity" and "-Infinity".
            var value = p.Value.ValueKind == JsonValueKind.String ? double.Parse(p.Value.GetString()!, CultureInfo.InvariantCulture) : p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetDouble() : double.NaN;
            switch (p.Name)
            {
                case "training_iteration": iteration = (long)value; break;
                case "time_total_s": total = value; break;
                case "timestamp": timestamp = value; break;
                case "iterations_since_restore": sinceRestore = (long)value; break;
                default: metrics[p.Name] = value; break;
            }
        }

        return new TrialResult(iteration, total, timestamp, metrics, sinceRestore);
    }

    /// <summary>
    /// <c>experiment.json</c>: the experiment's fields, indented, then <c>trials</c>, a trial a line (a run of 100,000 trials
    /// reads and greps as 100,000 lines), streamed from the document's view of the table.
    /// </summary>
    public static void WriteExperiment(Stream stream, ExperimentDocument doc)
    {
        // The fields before the trials, as an object whose closing brace the trials' array goes before.
        var head = new System.Buffers.ArrayBufferWriter<byte>(8192);
        using (var w = new Utf8JsonWriter(head, new JsonWriterOptions { Indented = true, Encoder = Encoder }))
        {
            WriteExperimentFields(w, doc);
        }

        var fields = head.WrittenSpan[..head.WrittenSpan.LastIndexOf((byte)'}')].TrimEnd(" \r\n"u8);
        stream.Write(fields);
        stream.Write(",\n  \"trials\": "u8);
        doc.Trials.WriteRows(stream, "  ");
        stream.Write("\n}\n"u8);
    }

    /// <summary><c>pareto_front</c>: each trial as <see cref="WriteTrial"/> writes it.</summary>
    public static void WriteParetoFront(Utf8JsonWriter w, IEnumerable<BestTrial> front)
    {
        w.WriteStartArray("pareto_front");
        foreach (var trial in front)
        {
            WriteTrial(w, trial);
        }

        w.WriteEndArray();
    }

    /// <summary>A best or front trial: <c>{ trial_id, config, metrics }</c>, its metrics those of its last result.</summary>
    public static void WriteTrial(Utf8JsonWriter w, BestTrial trial)
    {
        w.WriteStartObject();
        w.WriteString("trial_id", trial.TrialId);
        w.WritePropertyName("config");
        SpecWriter.WriteConfig(w, trial.Config);
        w.WritePropertyName("metrics");
        WriteResult(w, trial.TrialId, trial.LastResult);
        w.WriteEndObject();
    }

    private static void WriteExperimentFields(Utf8JsonWriter w, ExperimentDocument doc)
    {
        w.WriteStartObject();
        w.WriteString("name", doc.Spec.Name);
        w.WriteString("id", doc.Id);
        w.WriteString("status", doc.Status.ToWire());
        if (doc.StatusReason is not null)
        {
            w.WriteString("status_reason", doc.StatusReason);
        }

        w.WriteString("started_at", doc.StartedAt.ToString("O", CultureInfo.InvariantCulture));
        if (doc.EndedAt is { } ended)
        {
            w.WriteString("ended_at", ended.ToString("O", CultureInfo.InvariantCulture));
        }

        w.WriteString("metric", doc.Spec.Metric);
        w.WriteString("mode", doc.Spec.Mode == OptimizationMode.Min ? "min" : "max");
        if (doc.Spec.IsMultiObjective)
        {
            w.WriteStartArray("objectives");
            foreach (var objective in doc.Spec.Objectives)
            {
                w.WriteStartObject();
                w.WriteString("metric", objective.Metric);
                w.WriteString("mode", objective.Mode == OptimizationMode.Min ? "min" : "max");
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteStartObject("state_counts");
        foreach (var status in Enum.GetValues<TrialStatus>())
        {
            w.WriteNumber(status.ToWire(), doc.StateCounts.TryGetValue(status, out var n) ? n : 0);
        }

        w.WriteEndObject();
        if (doc.Best is { } best)
        {
            w.WritePropertyName("best");
            WriteTrial(w, best);
        }
        else
        {
            w.WriteNull("best");
        }

        if (doc.ParetoFront is { } front)
        {
            WriteParetoFront(w, front);
        }

        w.WriteNumber("infeasible_trials", doc.InfeasibleTrials);

        w.WritePropertyName("spec");
        SpecWriter.Write(w, doc.Spec.Redacted());
        w.WriteEndObject();
    }
}
