using System.Globalization;
using System.Text.Json;
using Tuner.Core.Results;
using Tuner.Core.Schedulers;
using Tuner.Core.Search;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Experiments.Control;

/// <summary>
/// The controller's replayable state as one JSON object, for a journal snapshot (<see cref="JournalSnapshot"/>): what applying
/// the journal's events, attempts and interruptions up to a position makes of it (the trial table, the counts, the positions,
/// the experiment's status), so that a restore applies only the events after that position to it.
/// </summary>
public sealed partial class ExperimentController
{
    /// <summary>
    /// Whether a snapshot holds all a restore needs: the searcher's calls are its suggestions and completions (not BOHB's every
    /// result), and the scheduler keeps no state of its own (FIFO). Others restore from the whole journal.
    /// </summary>
    public bool CanSnapshot => _searcher is SearcherJournal { CanSnapshot: true } && _scheduler is SchedulerJournal { Inner: FifoScheduler };

    /// <summary>The body of a journal snapshot now: the controller's state and the searcher's calls.</summary>
    public byte[] SnapshotBody() => CaptureSnapshot().ToBytes();

    /// <summary>
    /// The state a snapshot taken now holds, copied (the trial table row by row, the searcher's calls) so that it can be
    /// written out on another thread while the experiment goes on: the copy costs a few milliseconds at 100,000 trials, the
    /// writing hundreds, and that stays off the experiment's thread.
    /// </summary>
    public SnapshotCapture CaptureSnapshot()
    {
        var rows = new SnapshotCapture.Row[_ordered.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            var t = _ordered[i];
            rows[i] = new SnapshotCapture.Row(t.TrialId, t.Status, t.Config, t.Iteration, t.Attempt, t.Failures, t.LastResult, t.Reason, t.Diagnosis, t.Decisions?.ToArray(), t.Curve?.ToArray());
        }

        return new SnapshotCapture(
            StartedAt,
            Status,
            StatusReason,
            EndedAt,
            LastEventTime,
            NextPosition,
            ResultsRecorded,
            _interrupted?.ToArray(),
            _interruptedPaused?.ToArray(),
            rows,
            [.. ((SearcherJournal)_searcher!).Ops]);
    }

    /// <summary>A copy of the controller's replayable state and the searcher's calls, written as a snapshot's body by <see cref="ToBytes"/>.</summary>
    public sealed class SnapshotCapture(
        DateTimeOffset startedAt,
        ExperimentStatus status,
        string? statusReason,
        DateTimeOffset? endedAt,
        DateTimeOffset lastEventTime,
        long nextPosition,
        long resultsRecorded,
        string[]? interrupted,
        string[]? interruptedPaused,
        SnapshotCapture.Row[] trials,
        int[] searcherOps)
    {
        /// <summary>One trial's row, copied.</summary>
        public readonly record struct Row(
            string Id,
            TrialStatus Status,
            TrialConfig Config,
            long Iteration,
            int Attempt,
            int Failures,
            TrialResult? LastResult,
            string? Reason,
            string? Diagnosis,
            TrialDecision[]? Decisions,
            (double Loss, double Rate)[]? Curve);

        public byte[] ToBytes()
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(256 + (trials.Length * 320));
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = ResultJson.Encoder }))
            {
                w.WriteStartObject();
                w.WritePropertyName("controller");
                WriteState(w);
                w.WriteStartArray("searcher_ops");
                foreach (var op in searcherOps)
                {
                    w.WriteNumberValue(op);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }

        /// <summary>Writes the state the journal's lines up to the position it was taken at made.</summary>
        private void WriteState(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteString("started_at", startedAt.ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("status", status.ToWire());
            WriteOptional(w, "status_reason", statusReason);
            if (endedAt is { } ended)
            {
                w.WriteString("ended_at", ended.ToString("O", CultureInfo.InvariantCulture));
            }

            w.WriteString("last_event_time", lastEventTime.ToString("O", CultureInfo.InvariantCulture));
            w.WriteNumber("next_position", nextPosition);
            w.WriteNumber("results_recorded", resultsRecorded);
            WriteIds(w, "interrupted", interrupted);
            WriteIds(w, "interrupted_paused", interruptedPaused);
            w.WriteStartArray("trials");
            foreach (var t in trials)
            {
                w.WriteStartObject();
                w.WriteString("id", t.Id);
                w.WriteString("status", t.Status.ToWire());
                w.WritePropertyName("config");
                SpecWriter.WriteConfig(w, t.Config);
                w.WriteNumber("iteration", t.Iteration);
                w.WriteNumber("attempt", t.Attempt);
                w.WriteNumber("failures", t.Failures);
                if (t.LastResult is { } last)
                {
                    w.WritePropertyName("last_result");
                    ResultJson.WriteResult(w, t.Id, last);
                }

                WriteOptional(w, "reason", t.Reason);
                WriteOptional(w, "diagnosis", t.Diagnosis);
                if (t.Decisions is { } decisions)
                {
                    w.WriteStartArray("decisions");
                    foreach (var decision in decisions)
                    {
                        ResultJson.WriteDecision(w, decision);
                    }

                    w.WriteEndArray();
                }

                if (t.Curve is { } curve)
                {
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

            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    /// <summary>A controller of <paramref name="spec"/> in the state <see cref="SnapshotCapture"/> wrote; the searcher and the scheduler are attached after.</summary>
    public static ExperimentController FromState(ExperimentSpec spec, JsonElement state, IExperimentListener listener, TimeProvider time)
    {
        var controller = new ExperimentController(spec, null, null, listener, time, Time(state, "started_at"))
        {
            Status = Enum.Parse<ExperimentStatus>(state.GetProperty("status").GetString()!, ignoreCase: true),
            StatusReason = Optional(state, "status_reason"),
            EndedAt = state.TryGetProperty("ended_at", out _) ? Time(state, "ended_at") : null,
            LastEventTime = Time(state, "last_event_time"),
            NextPosition = state.GetProperty("next_position").GetInt64(),
            ResultsRecorded = state.GetProperty("results_recorded").GetInt64(),
        };
        controller._interrupted = state.TryGetProperty("interrupted", out var interrupted) ? Ids(interrupted) : null;
        controller._interruptedPaused = state.TryGetProperty("interrupted_paused", out var paused) ? Ids(paused) : new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in state.GetProperty("trials").EnumerateArray())
        {
            var trial = new TrialRecord(t.GetProperty("id").GetString()!, TrialConfigJson.Read(t.GetProperty("config")), controller._ordered.Count + 1)
            {
                Status = Enum.Parse<TrialStatus>(t.GetProperty("status").GetString()!, ignoreCase: true),
                Iteration = t.GetProperty("iteration").GetInt64(),
                Attempt = t.GetProperty("attempt").GetInt32(),
                Failures = t.GetProperty("failures").GetInt32(),
                LastResult = t.TryGetProperty("last_result", out var last) ? ResultJson.ReadResult(last) : null,
                Reason = Optional(t, "reason"),
                Diagnosis = Optional(t, "diagnosis"),
                Decisions = t.TryGetProperty("decisions", out var decisions)
                    ? decisions.EnumerateArray().Select(d => new TrialDecision(d.GetProperty("training_iteration").GetInt64(), d.GetProperty("action").GetString()!, d.GetProperty("reason").GetString() ?? string.Empty)).ToList()
                    : null,
                Curve = t.TryGetProperty("curve", out var curve)
                    ? curve.EnumerateArray().Select(p => (double.Parse(p[0].GetString()!, CultureInfo.InvariantCulture), double.Parse(p[1].GetString()!, CultureInfo.InvariantCulture))).ToList()
                    : null,
            };
            trial.LastMetric = trial.LastResult?.GetMetric(spec.Metric);
            if (trial.Status.IsFinal())
            {
                controller.KeepEnded(trial);
            }

            controller._trials.Add(trial.TrialId, trial);
            controller._ordered.Add(trial);
            controller.Count(trial.Status, +1);
            if (!trial.Status.IsFinal())
            {
                controller._open.Add(trial);
            }
        }

        controller._bestStale = true;
        return controller;
    }

    private static void WriteIds(Utf8JsonWriter w, string name, IEnumerable<string>? ids)
    {
        if (ids is null)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (var id in ids)
        {
            w.WriteStringValue(id);
        }

        w.WriteEndArray();
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static HashSet<string> Ids(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);

    private static string? Optional(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static DateTimeOffset Time(JsonElement e, string name) => DateTimeOffset.Parse(e.GetProperty(name).GetString()!, CultureInfo.InvariantCulture);
}
