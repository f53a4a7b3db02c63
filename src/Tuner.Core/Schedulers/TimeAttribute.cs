using Tuner.Core.Experiments;

namespace Tuner.Core.Schedulers;

/// <summary>
/// What a scheduler measures progress in (Ray's <c>time_attr</c>): <c>training_iteration</c> (reports),
/// <c>time_total_s</c> (seconds of training), or any metric the trainable reports, such as <c>epoch</c>.
/// </summary>
public static class TimeAttribute
{
    public const string Iterations = "training_iteration";

    public const string Seconds = "time_total_s";

    /// <summary>The result's progress in <paramref name="name"/>, or null when the result does not report it.</summary>
    public static double? Read(TrialResult result, string name) => name switch
    {
        Iterations => result.TrainingIteration,
        Seconds => result.TimeTotalS,
        _ => result.GetMetric(name),
    };
}
