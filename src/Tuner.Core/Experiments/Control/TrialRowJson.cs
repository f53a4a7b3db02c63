using System.Globalization;
using System.Text.Json;
using Tuner.Core.Results;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Experiments.Control;

/// <summary>
/// One trial as a JSON object: an entry of <c>experiment.json</c>'s <c>trials</c>, a line of the ended trials' archive
/// (<see cref="TrialArchive"/>) and an open trial's row in a journal snapshot, one shape for the three, so that
/// <c>experiment.json</c> copies archived rows as they are. Its status, iterations, failures, run (attempt), the experiment's
/// metric at its last result, why it is in its state, the learning-rate advice, its decisions, config and last result;
/// the (valid_loss, lr) curve only while it runs (a snapshot's rows: an ended trial's has served its advice).
/// </summary>
public static class TrialRowJson
{
    public static void Write(Utf8JsonWriter w, TrialRecord t, string metric, bool withCurve)
    {
        w.WriteStartObject();
        w.WriteString("trial_id", t.TrialId);
        w.WriteString("status", t.Status.ToWire());
        w.WriteNumber("iterations", t.Iteration);
        w.WriteNumber("failures", t.Failures);
        w.WriteNumber("attempt", t.Attempt);
        if (t.LastMetric is { } value && !IsOwnKey(metric))
        {
            ResultJson.WriteNumber(w, metric, value);
        }

        if (t.Reason is not null)
        {
            w.WriteString("status_reason", t.Reason);
        }

        if (t.Diagnosis is not null)
        {
            w.WriteString("diagnosis", t.Diagnosis);
        }

        if (t.Decisions is { Count: > 0 } decisions)
        {
            w.WriteStartArray("decisions");
            foreach (var decision in decisions)
            {
                ResultJson.WriteDecision(w, decision);
            }

            w.WriteEndArray();
        }

        w.WritePropertyName("config");
        SpecWriter.WriteConfig(w, t.Config);
        if (t.LastResult is { } last)
        {
            w.WritePropertyName("last_result");
            ResultJson.WriteResult(w, null, last);
        }

        if (withCurve && t.Curve is { } curve)
        {
            // As strings: exact, and a NaN loss stays one.
            w.WriteStartArray("curve");
            foreach (var (loss, rate) in curve)
            {
                w.WriteStartArray();
                w.WriteStringValue(loss.ToString("R", CultureInfo.InvariantCulture));
                w.WriteStringValue(rate.ToString("R", CultureInfo.InvariantCulture));
                w.WriteEndArray();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    /// <summary>A trial read back from a row <see cref="Write"/> wrote (its UTF-8 JSON).</summary>
    public static TrialRecord Read(ReadOnlySpan<byte> row, string metric)
    {
        var reader = new Utf8JsonReader(row);
        using var document = JsonDocument.ParseValue(ref reader);
        return Read(document.RootElement, metric);
    }

    public static TrialRecord Read(JsonElement t, string metric)
    {
        var id = t.GetProperty("trial_id").GetString()!;
        var trial = new TrialRecord(id, TrialConfigJson.Read(t.GetProperty("config")), TrialTable.IndexOf(id))
        {
            Status = Enum.Parse<TrialStatus>(t.GetProperty("status").GetString()!, ignoreCase: true),
            Iteration = t.GetProperty("iterations").GetInt64(),
            Attempt = t.GetProperty("attempt").GetInt32(),
            Failures = t.GetProperty("failures").GetInt32(),
            LastResult = t.TryGetProperty("last_result", out var last) ? ResultJson.ReadResult(last) : null,
            Reason = Optional(t, "status_reason"),
            Diagnosis = Optional(t, "diagnosis"),
            Decisions = t.TryGetProperty("decisions", out var decisions)
                ? [.. decisions.EnumerateArray().Select(d => new TrialDecision(d.GetProperty("training_iteration").GetInt64(), d.GetProperty("action").GetString()!, d.GetProperty("reason").GetString() ?? string.Empty))]
                : null,
            Curve = t.TryGetProperty("curve", out var curve)
                ? [.. curve.EnumerateArray().Select(p => (double.Parse(p[0].GetString()!, CultureInfo.InvariantCulture), double.Parse(p[1].GetString()!, CultureInfo.InvariantCulture)))]
                : null,
        };
        trial.LastMetric = trial.LastResult?.GetMetric(metric);
        return trial;
    }

    /// <summary>A metric named like one of the row's own keys is not repeated at the top (it is in <c>last_result</c>).</summary>
    private static bool IsOwnKey(string metric) =>
        metric is "trial_id" or "status" or "iterations" or "failures" or "attempt" or "status_reason" or "diagnosis" or "decisions" or "config" or "last_result" or "curve";

    private static string? Optional(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
