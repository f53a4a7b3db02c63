using Tuner.Core.Experiments;

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

/// <summary>
/// Decides, centrally, for every reported result whether its trial continues, pauses or stops
/// (Ray's TrialScheduler). The experiment calls it from one thread at a time.
/// </summary>
public interface ITrialScheduler
{
    SchedulerDecision OnResult(string trialId, TrialResult result);

    void OnTrialComplete(string trialId);
}
