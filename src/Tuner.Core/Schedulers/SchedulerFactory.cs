using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>Builds the early-stopping scheduler a spec names.</summary>
public static class SchedulerFactory
{
    public static ITrialScheduler Create(ExperimentSpec spec) => spec.Scheduler.Algorithm switch
    {
        "fifo" => new FifoScheduler(),
        "asha" when spec.IsMultiObjective => new ParetoAshaScheduler(spec.Objectives, spec.Scheduler.TimeAttr, spec.Scheduler.MaxT, spec.Scheduler.GracePeriod, spec.Scheduler.ReductionFactor),
        "asha" => new AshaScheduler(spec.Metric, spec.Mode, spec.Scheduler.TimeAttr, spec.Scheduler.MaxT, spec.Scheduler.GracePeriod, spec.Scheduler.ReductionFactor),
        "asha_promotion" => new AshaPromotionScheduler(spec.Metric, spec.Mode, spec.Scheduler.TimeAttr, spec.Scheduler.MaxT, spec.Scheduler.GracePeriod, spec.Scheduler.ReductionFactor),
        "hyperband" => new HyperbandScheduler(spec.Metric, spec.Mode, spec.Scheduler.TimeAttr, spec.Scheduler.MaxT, spec.Scheduler.ReductionFactor),
        "bohb" => new HyperbandScheduler(spec.Metric, spec.Mode, spec.Scheduler.TimeAttr, spec.Scheduler.MaxT, spec.Scheduler.ReductionFactor, forBohb: true),
        "pbt" => new PbtScheduler(spec.Metric, spec.Mode, spec.Scheduler.TimeAttr, spec.Scheduler.PerturbationInterval, spec.Scheduler.QuantileFraction, spec.Scheduler.ResampleProbability, spec.Space, spec.Search.Seed),
        "median" => new MedianStoppingRule(spec.Metric, spec.Mode, spec.Scheduler.TimeAttr, spec.Scheduler.GracePeriod, spec.Scheduler.MinSamplesRequired),
        _ => throw new SpecException("scheduler.algorithm", $"'{spec.Scheduler.Algorithm}' is not one of the allowed values: {string.Join(", ", SchedulerSpec.Algorithms)}"),
    };
}
