using System.Globalization;
using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>Schedulers compare scores where higher is better: the metric, negated when minimising.</summary>
internal readonly record struct MetricSign(string Metric, OptimizationMode Mode)
{
    public double Score(double value) => Mode == OptimizationMode.Max ? value : -value;

    /// <summary>A score back in the metric's own units, for reasons people read.</summary>
    public double Value(double score) => Mode == OptimizationMode.Max ? score : -score;

    public string Worse => Mode == OptimizationMode.Max ? "below" : "above";

    public static string F(double value) => value.ToString("G5", CultureInfo.InvariantCulture);
}
