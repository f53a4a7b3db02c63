using System.Globalization;
using Tuner.Core.Experiments;
using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>Schedulers compare scores where higher is better: the metric, negated when minimising.</summary>
internal readonly record struct MetricSign(string Metric, OptimizationMode Mode)
{
    public double Score(double value) => Mode == OptimizationMode.Max ? value : -value;

    /// <summary>A score back in the metric's own units, for reasons people read.</summary>
    public double Value(double score) => Mode == OptimizationMode.Max ? score : -score;

    public string Worse => Mode == OptimizationMode.Max ? "below" : "above";

    /// <summary>The result's progress in <paramref name="timeAttr"/> and its metric; false when it lacks either or the metric is NaN (nothing to judge).</summary>
    public bool TryRead(TrialResult result, string timeAttr, out double time, out double value)
    {
        time = TimeAttribute.Read(result, timeAttr) ?? double.NaN;
        value = result.GetMetric(Metric) ?? double.NaN;
        return !double.IsNaN(time) && !double.IsNaN(value);
    }

    public static string F(double value) => value.ToString("G5", CultureInfo.InvariantCulture);
}
