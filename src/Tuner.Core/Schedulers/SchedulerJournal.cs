using System.Text.Json;
using Tuner.Core.Experiments;
using Tuner.Core.Results;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>
/// Saves an early-stopping scheduler's state as the journal of the calls it was given, one JSON line
/// each (<c>"event": "scheduler"</c> in the experiment's <c>journal.jsonl</c>): a trial added (with its
/// config), a result (trial and iteration; the result itself is the experiment's), a trial complete,
/// and every question about free slots and paused trials with the state it was asked in. Schedulers
/// are deterministic given these calls (population-based training's explorations come from its
/// seeded generator), so <see cref="Restore"/> rebuilds one exactly by replaying them into a new
/// scheduler made from the same spec, checking that every answer comes out as it did.
/// </summary>
public sealed class SchedulerJournal(ITrialScheduler inner, TextWriter? log) : ITrialScheduler
{
    public const string EventName = "scheduler";

    // FIFO keeps no state and answers every call the same (continue, start a new trial, stop nothing): a restore has nothing to
    // replay, so its calls (a dozen lines a trial, half the journal of a short trial) are not written.
    private readonly TextWriter? _log = inner is FifoScheduler ? null : log;

    public ITrialScheduler Inner { get; } = inner;

    public void OnTrialAdd(string trialId, TrialConfig config)
    {
        Inner.OnTrialAdd(trialId, config);
        Write("add", trialId, w =>
        {
            w.WritePropertyName("config");
            SpecWriter.WriteConfig(w, config);
        });
    }

    public SchedulerDecision OnResult(string trialId, TrialResult result)
    {
        var decision = Inner.OnResult(trialId, result);
        Write("result", trialId, w =>
        {
            w.WriteNumber("training_iteration", result.TrainingIteration);
            w.WriteString("action", decision.Action.ToString());
        });
        return decision;
    }

    public void OnTrialComplete(string trialId)
    {
        Inner.OnTrialComplete(trialId);
        Write("complete", trialId, null);
    }

    public SchedulerChoice ChooseTrialToRun(SchedulerState state)
    {
        var choice = Inner.ChooseTrialToRun(state);
        Write("choose", null, w =>
        {
            WriteState(w, state);
            w.WriteString("choice", Describe(choice));
        });
        return choice;
    }

    public IReadOnlyList<SchedulerDecisionFor> PausedToStop(SchedulerState state)
    {
        var stops = Inner.PausedToStop(state);
        Write("stop", null, w =>
        {
            WriteState(w, state);
            w.WriteString("choice", string.Join(',', stops.Select(s => s.TrialId)));
        });
        return stops;
    }

    /// <summary>
    /// The scheduler <paramref name="spec"/> makes, brought to the state the journal's scheduler
    /// <paramref name="lines"/> describe; <paramref name="result"/> gives the result a trial reported at
    /// an iteration. New calls go to <paramref name="log"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">A line is not a scheduler call, or a replayed answer differs from the recorded one (the spec or the scheduler changed).</exception>
    public static SchedulerJournal Restore(ExperimentSpec spec, IEnumerable<JsonElement> lines, Func<string, long, TrialResult> result, TextWriter? log)
    {
        var inner = SchedulerFactory.Create(spec);
        var number = 0;
        foreach (var e in lines)
        {
            number++;
            var trialId = e.TryGetProperty("trial", out var t) ? t.GetString()! : null;
            string? answer = null;
            string? recorded = e.TryGetProperty("choice", out var c) ? c.GetString() : null;
            switch (e.GetProperty("call").GetString())
            {
                case "add":
                    inner.OnTrialAdd(trialId!, TrialConfigJson.Read(e.GetProperty("config")));
                    break;
                case "result":
                    var decision = inner.OnResult(trialId!, result(trialId!, e.GetProperty("training_iteration").GetInt64()));
                    answer = decision.Action.ToString();
                    recorded = e.GetProperty("action").GetString();
                    break;
                case "complete":
                    inner.OnTrialComplete(trialId!);
                    break;
                case "choose":
                    answer = Describe(inner.ChooseTrialToRun(ReadState(e)));
                    break;
                case "stop":
                    answer = string.Join(',', inner.PausedToStop(ReadState(e)).Select(s => s.TrialId));
                    break;
                default:
                    throw new InvalidDataException($"scheduler journal entry {number}: unknown call {e.GetProperty("call").GetRawText()}");
            }

            if (answer != recorded)
            {
                throw new InvalidDataException($"scheduler journal entry {number} ({e.GetProperty("call").GetString()}{(trialId is null ? "" : " " + trialId)}): the scheduler answered {recorded}, now {answer}; the spec or the scheduler changed since it was written");
            }
        }

        return new SchedulerJournal(inner, log);
    }

    private static string Describe(SchedulerChoice choice) => choice.Kind switch
    {
        ChoiceKind.Resume => $"resume {choice.TrialId}{(choice.CloneFrom is { } donor ? " from " + donor : "")}",
        ChoiceKind.StartNew => "new",
        _ => "wait",
    };

    private static void WriteState(Utf8JsonWriter w, SchedulerState state)
    {
        w.WriteStartArray("paused");
        foreach (var id in state.Paused)
        {
            w.WriteStringValue(id);
        }

        w.WriteEndArray();
        w.WriteNumber("running", state.Running);
        w.WriteBoolean("more", state.SearcherHasMore);
    }

    private static SchedulerState ReadState(JsonElement e) =>
        new([.. e.GetProperty("paused").EnumerateArray().Select(p => p.GetString()!)], e.GetProperty("running").GetInt32(), e.GetProperty("more").GetBoolean());

    private void Write(string call, string? trialId, Action<Utf8JsonWriter>? body)
    {
        if (_log is null)
        {
            return;
        }

        JournalLine.Write(_log, EventName, w =>
        {
            w.WriteString("call", call);
            if (trialId is not null)
            {
                w.WriteString("trial", trialId);
            }

            body?.Invoke(w);
        });
    }
}
