using Tuner.Core.Experiments;

namespace Tuner.Core.Schedulers;

/// <summary>Runs every trial to its end: no early stopping (Ray's FIFOScheduler, the default).</summary>
public sealed class FifoScheduler : ITrialScheduler
{
    public SchedulerDecision OnResult(string trialId, TrialResult result) => SchedulerDecision.Continue;

    public void OnTrialComplete(string trialId)
    {
    }
}
