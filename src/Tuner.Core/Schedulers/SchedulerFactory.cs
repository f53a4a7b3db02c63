using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>Builds the early-stopping scheduler a spec names.</summary>
public static class SchedulerFactory
{
    public static ITrialScheduler Create(ExperimentSpec spec) => spec.Scheduler.Algorithm switch
    {
        "fifo" => new FifoScheduler(),
        "asha" => new AshaScheduler(spec.Metric, spec.Mode, spec.Scheduler.TimeAttr, spec.Scheduler.MaxT, spec.Scheduler.GracePeriod, spec.Scheduler.ReductionFactor),
        "median" => new MedianStoppingRule(spec.Metric, spec.Mode, spec.Scheduler.TimeAttr, spec.Scheduler.GracePeriod, spec.Scheduler.MinSamplesRequired),
        _ => throw new SpecException("scheduler.algorithm", $"'{spec.Scheduler.Algorithm}' is not one of the allowed values: {string.Join(", ", SchedulerSpec.Algorithms)}"),
    };
}
