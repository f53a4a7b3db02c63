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
    /// result), and neither the scheduler (FIFO) nor a stop rule (not the plateau ones) keeps state of its own. Others restore from the whole journal.
    /// </summary>
    public bool CanSnapshot => _searcher is SearcherJournal { CanSnapshot: true } && _scheduler is SchedulerJournal { Inner: FifoScheduler } && !_stop.HasState;

    /// <summary>The body of a journal snapshot now: the controller's state and the searcher's calls.</summary>
    public byte[] SnapshotBody() => CaptureSnapshot().ToBytes();

    /// <summary>
    /// The state a snapshot taken now holds, copied so that it can be written out on another thread while the experiment goes
    /// on: the open trials' rows (few), where the archive of ended trials ends (sealed: every row up to there is written, and to
    /// the disk with <paramref name="toDisk"/>) and the searcher's calls. Nothing in it grows with finished trials but the calls
    /// (an int each).
    /// </summary>
    public SnapshotCapture CaptureSnapshot(bool toDisk = false) =>
        new(
            StartedAt,
            Status,
            StatusReason,
            EndedAt,
            LastEventTime,
            NextPosition,
            ResultsRecorded,
            _interrupted?.ToArray(),
            _interruptedPaused?.ToArray(),
            _table.Capture(withCurves: true, toDisk),
            [.. ((SearcherJournal)_searcher!).Ops],
            Spec.Samples);

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
        TrialTable.View trials,
        int[] searcherOps,
        int samples)
    {
        /// <summary>The length of the ended trials' archive the snapshot covers (a restore cuts it there and reads it).</summary>
        public long ArchivedBytes => trials.ArchivedBytes;

        public byte[] ToBytes()
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096 + (trials.LiveRows.Count * 512) + (searcherOps.Length * 3));
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
            w.WriteNumber("trial_count", trials.Count);

            // The samples the spec had then (more than the journal's start says once the experiment was extended).
            w.WriteNumber("samples", samples);
            w.WriteNumber("archived_bytes", trials.ArchivedBytes);
            WriteIds(w, "interrupted", interrupted);
            WriteIds(w, "interrupted_paused", interruptedPaused);

            // The open trials; the ended ones are the archive's rows up to archived_bytes.
            w.WriteStartArray("trials");
            trials.WriteLiveRows(w);
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    /// <summary>
    /// A controller of <paramref name="spec"/> in the state <see cref="SnapshotCapture"/> wrote: the ended trials read from
    /// <paramref name="archive"/> (cut where the snapshot was taken), the open ones from the snapshot's rows. The searcher and the
    /// scheduler are attached after.
    /// </summary>
    /// <exception cref="InvalidDataException">The archive and the rows together do not hold every trial the snapshot counts.</exception>
    public static ExperimentController FromState(ExperimentSpec spec, JsonElement state, TrialArchive archive, IExperimentListener listener, TimeProvider time)
    {
        var controller = new ExperimentController(spec, null, null, listener, time, Time(state, "started_at"), archive)
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
        var table = controller._table;
        var archived = state.GetProperty("archived_bytes").GetInt64();
        if (archive.Length < archived)
        {
            throw new InvalidDataException($"snapshot: the ended trials' archive has {archive.Length} bytes, fewer than the {archived} it covers");
        }

        foreach (var (trial, offset, length) in TrialTable.ReadArchive(archive, archived, spec.Metric))
        {
            table.Restore(trial, offset, length);
            controller.RecordObjectives(trial);
        }

        foreach (var row in state.GetProperty("trials").EnumerateArray())
        {
            var trial = TrialRowJson.Read(row, spec.Metric);
            table.RestoreLive(trial);
            controller._open.Add(trial);
            controller.RecordObjectives(trial);
        }

        var count = state.GetProperty("trial_count").GetInt32();
        var missing = table.FirstMissing();
        if (table.Count != count || missing is not null)
        {
            throw new InvalidDataException($"snapshot: it counts {count} trials, and its archive and rows hold {table.Count}{(missing is { } m ? $", without {TrialTable.IdOf(m)}" : string.Empty)}");
        }

        foreach (var status in table.Statuses())
        {
            controller.Count(status, +1);
        }

        controller._bestStale = true;
        return controller;
    }

    /// <summary>A restored trial's last result, for the constraints and the objectives (a replay records them as the results come).</summary>
    private void RecordObjectives(TrialRecord trial)
    {
        if (trial.LastResult is { } last)
        {
            _objectives.Record(trial.Index, last);
        }
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
