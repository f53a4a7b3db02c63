namespace Tuner.Core.Schedulers;

/// <summary>Quantiles as numpy computes them by default.</summary>
public static class Quantile
{
    /// <summary>The <paramref name="q"/> quantile of sorted values, interpolating linearly between the two nearest ranks.</summary>
    public static double Linear(IReadOnlyList<double> sorted, double q)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sorted.Count);
        var position = q * (sorted.Count - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + ((position - below) * (sorted[above] - sorted[below]));
    }

    /// <summary>The median of unsorted values.</summary>
    public static double Median(IEnumerable<double> values) => Linear([.. values.Order()], 0.5);
}
