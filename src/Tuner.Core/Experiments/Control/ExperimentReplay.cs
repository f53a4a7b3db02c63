using System.Globalization;
using System.Text.Json;
using Tuner.Core.Results;
using Tuner.Core.Schedulers;
using Tuner.Core.Search;
using Tuner.Core.Spec;

namespace Tuner.Core.Experiments.Control;

/// <summary>
/// An experiment rebuilt from its journal (<see cref="ExperimentJournal"/>): every event applied to a
/// new controller through the same path as when it happened (the listener hears each as replayed: the
/// watchers' log and the trial files are made again from it), each run and interruption recorded, and,
/// unless the experiment had completed or failed, the searcher and the scheduler restored by replaying
/// their calls, which must answer as recorded.
/// </summary>
public sealed class ExperimentReplay
{
    private readonly Dictionary<(string, long), TrialResult> _results;

    private ExperimentReplay(ExperimentController controller, Dictionary<(string, long), TrialResult> results)
    {
        Controller = controller;
        _results = results;
    }

    public ExperimentController Controller { get; }

    /// <summary>The result a trial recorded at an iteration, or null (replayed, or its last one, as a snapshot keeps it).</summary>
    public TrialResult? ResultAt(string trialId, long iteration) =>
        _results.GetValueOrDefault((trialId, iteration))
        ?? (Controller.TryGetTrial(trialId, out var trial) && trial.LastResult is { } last && last.TrainingIteration == iteration ? last : null);

    /// <summary>The experiment id and start time the journal's first line gives.</summary>
    public static (string Id, DateTimeOffset StartedAt, ExperimentSpec Spec) ReadStart(IReadOnlyList<JsonElement> lines)
    {
        var start = lines[0];
        return (
            start.GetProperty("id").GetString()!,
            DateTimeOffset.Parse(start.GetProperty("started_at").GetString()!, CultureInfo.InvariantCulture),
            SpecParser.ParseStructure(start.GetProperty("spec").GetRawText()));
    }

    /// <summary>Whether the journal records the experiment's end as completed or failed: its files are final, and it is only read.</summary>
    public static bool EndedForGood(IReadOnlyList<JsonElement> lines) =>
        lines.LastOrDefault(l => l.GetProperty("event").GetString() == "experiment" && l.TryGetProperty("experiment_status", out _)) is { ValueKind: JsonValueKind.Object } last
        && last.GetProperty("experiment_status").GetString() is "completed" or "failed";

    /// <summary>
    /// Replays <paramref name="lines"/> (a journal's, as <see cref="ExperimentJournal.Read"/> returns them) into a controller of
    /// <paramref name="spec"/>. With <paramref name="journal"/> (null for an experiment only read) the searcher and the scheduler
    /// are restored and their new calls go there.
    /// </summary>
    /// <exception cref="InvalidDataException">An event names a trial never created, or the searcher or the scheduler answers otherwise than recorded.</exception>
    public static ExperimentReplay Run(ExperimentSpec spec, IReadOnlyList<JsonElement> lines, IExperimentListener listener, TimeProvider time, TextWriter? journal, TrialArchive? archive = null)
    {
        var (_, startedAt, _) = ReadStart(lines);
        var controller = new ExperimentController(spec, null, null, listener, time, startedAt, archive);
        var results = new Dictionary<(string, long), TrialResult>();
        var schedulerCalls = Apply(controller, lines.Skip(1), results);
        if (journal is not null)
        {
            controller.Attach(
                SearcherJournal.Restore(spec, lines.Select(l => (JsonElement?)l), journal),
                SchedulerJournal.Restore(spec, schedulerCalls, (trialId, iteration) => results[(trialId, iteration)], journal));
        }

        return new ExperimentReplay(controller, results);
    }

    /// <summary>
    /// The experiment as a snapshot (<paramref name="body"/>, see <see cref="ExperimentController.SnapshotBody"/>) left it, then the
    /// journal's <paramref name="tail"/> after it replayed as <see cref="Run"/> replays a whole journal: the same controller, in time
    /// proportional to the tail. The searcher is rebuilt from the snapshot's calls (each suggestion checked against the trial
    /// table), then told the tail's. <paramref name="archive"/> holds the ended trials' rows, cut where the snapshot was taken.
    /// </summary>
    public static ExperimentReplay FromSnapshot(ExperimentSpec spec, JsonElement body, IReadOnlyList<JsonElement> tail, IExperimentListener listener, TimeProvider time, TextWriter? journal, TrialArchive archive)
    {
        var controller = ExperimentController.FromState(spec, body.GetProperty("controller"), archive, listener, time);
        SearcherJournal? searcher = null;
        if (journal is not null)
        {
            // From the table as the snapshot has it: a trial's last metrics when it completed.
            var ops = body.GetProperty("searcher_ops").EnumerateArray().Select(o => o.GetInt32()).ToList();
            searcher = SearcherJournal.Rebuild(spec, ops, id => controller.TryGetTrial(id, out var t)
                ? (t.Config, t.LastResult?.Metrics, t.Status == TrialStatus.Error)
                : throw new InvalidDataException($"snapshot: the searcher's calls name trial {id}, which its table does not have"), null);
        }

        var results = new Dictionary<(string, long), TrialResult>();
        var schedulerCalls = Apply(controller, tail, results);
        if (searcher is not null)
        {
            controller.Attach(
                SearcherJournal.Continue(searcher, tail.Select(l => (JsonElement?)l), journal),
                SchedulerJournal.Restore(spec, schedulerCalls, (trialId, iteration) => results[(trialId, iteration)], journal));
        }

        return new ExperimentReplay(controller, results);
    }

    /// <summary>Applies journal lines (after the start) to the controller; returns the scheduler's calls among them.</summary>
    private static List<JsonElement> Apply(ExperimentController controller, IEnumerable<JsonElement> lines, Dictionary<(string, long), TrialResult> results)
    {
        var schedulerCalls = new List<JsonElement>();
        foreach (var line in lines)
        {
            switch (line.GetProperty("event").GetString())
            {
                case "experiment":
                    var e = ExperimentJournal.ReadEvent(line);
                    controller.Replay(e);
                    if (e.Result is { } result)
                    {
                        results[(e.TrialId!, result.TrainingIteration)] = result;
                    }

                    break;
                case SchedulerJournal.EventName:
                    schedulerCalls.Add(line);
                    break;
                case "attempt":
                    controller.ReplayAttempt(line.GetProperty("trial").GetString()!, line.GetProperty("attempt").GetInt32(), line.GetProperty("failures").GetInt32());
                    break;
                case "interrupted":
                    controller.ReplayInterrupted(
                        line.GetProperty("trials").EnumerateArray().Select(t => t.GetString()!),
                        line.GetProperty("paused").EnumerateArray().Select(t => t.GetString()!));
                    break;
            }
        }

        return schedulerCalls;
    }
}
