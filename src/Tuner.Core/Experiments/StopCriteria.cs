using System.Globalization;
using Tuner.Core.Spec;

namespace Tuner.Core.Experiments;

/// <summary>The spec's per-trial stop rules: an iteration count and a metric threshold.</summary>
public sealed class StopCriteria(ExperimentSpec spec)
{
    /// <summary>Why the trial should stop after <paramref name="result"/>, or null to let it go on.</summary>
    public string? ShouldStop(TrialResult result)
    {
        if (spec.Stop.TrainingIteration is { } max && result.TrainingIteration >= max)
        {
            return $"training_iteration reached {max}";
        }

        if (spec.Stop.MetricThreshold is { } threshold && result.GetMetric(spec.Metric) is { } value)
        {
            var reached = spec.Mode == OptimizationMode.Min ? value <= threshold : value >= threshold;
            if (reached)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{spec.Metric} {value:G6} reached the threshold {threshold:G6}");
            }
        }

        return null;
    }
}
