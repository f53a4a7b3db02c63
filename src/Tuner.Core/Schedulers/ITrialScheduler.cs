using Tuner.Core.Experiments;
using Tuner.Core.Space;

namespace Tuner.Core.Schedulers;

/// <summary>What an early-stopping scheduler decides after a result.</summary>
public enum SchedulerAction
{
    Continue,
    Pause,
    Stop,
}

/// <summary>A scheduler's decision and why, recorded with the trial.</summary>
public readonly record struct SchedulerDecision(SchedulerAction Action, string? Reason = null)
{
    public static SchedulerDecision Continue { get; } = new(SchedulerAction.Continue);
}

/// <summary>What to do with a free slot.</summary>
public enum ChoiceKind
{
    /// <summary>Start a new trial with the searcher's next config.</summary>
    StartNew,

    /// <summary>Resume a paused trial from its checkpoint.</summary>
    Resume,

    /// <summary>Nothing to run now.</summary>
    Wait,
}

/// <summary>
/// The scheduler's answer for a free slot. A resume may carry a new config and the trial whose
/// latest checkpoint to start from (population-based training's exploit); otherwise the trial
/// continues from its own checkpoint with its own config.
/// </summary>
public readonly record struct SchedulerChoice(ChoiceKind Kind, string? TrialId = null, TrialConfig? Config = null, string? CloneFrom = null, string? Reason = null)
{
    public static SchedulerChoice StartNew { get; } = new(ChoiceKind.StartNew);

    public static SchedulerChoice Wait { get; } = new(ChoiceKind.Wait);

    public static SchedulerChoice Resume(string trialId, string? reason = null) => new(ChoiceKind.Resume, trialId, Reason: reason);
}

/// <summary>What the experiment holds when it asks the scheduler about paused trials.</summary>
/// <param name="Paused">The trials paused now, holding no slot.</param>
/// <param name="Running">How many trials hold or wait for a slot.</param>
/// <param name="SearcherHasMore">False once the searcher will never suggest another config.</param>
public readonly record struct SchedulerState(IReadOnlyCollection<string> Paused, int Running, bool SearcherHasMore);

/// <summary>
/// Decides, centrally, for every reported result whether its trial continues, pauses or stops
/// (Ray's TrialScheduler), which paused trial a free slot resumes, and which paused trials will
/// never run again. The experiment calls it from one thread at a time. A paused trial holds no
/// slot; it resumes from its checkpoint.
/// </summary>
public interface ITrialScheduler
{
    /// <summary>A trial was created with <paramref name="config"/>; it has not reported yet.</summary>
    void OnTrialAdd(string trialId, TrialConfig config)
    {
    }

    SchedulerDecision OnResult(string trialId, TrialResult result);

    /// <summary>The trial ended (finished, stopped or failed for good); it will not report again.</summary>
    void OnTrialComplete(string trialId);

    /// <summary>A slot is free: start a new trial, resume a paused one, or wait. The experiment acts on the answer.</summary>
    SchedulerChoice ChooseTrialToRun(SchedulerState state) => state.SearcherHasMore ? SchedulerChoice.StartNew : SchedulerChoice.Wait;

    /// <summary>Paused trials that will never run again, with the reason each is stopped; the experiment ends them.</summary>
    IReadOnlyList<SchedulerDecisionFor> PausedToStop(SchedulerState state) => [];
}

/// <summary>A decision about a trial other than the one reporting.</summary>
public readonly record struct SchedulerDecisionFor(string TrialId, string Reason);
