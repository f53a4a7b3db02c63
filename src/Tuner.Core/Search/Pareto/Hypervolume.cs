namespace Tuner.Core.Search.Pareto;

/// <summary>
/// The hypervolume of a set of objective vectors (every objective minimised): the measure of the region they dominate and
/// that dominates <c>reference</c>. Exact: a sweep for two objectives, slicing along the last objective (HSO) for more.
/// Vectors that do not dominate the reference add nothing.
/// </summary>
public static class Hypervolume
{
    public static double Compute(IEnumerable<double[]> points, double[] reference)
    {
        var inside = points.Where(p => Enumerable.Range(0, reference.Length).All(i => p[i] < reference[i])).ToList();
        return Slice(inside, reference);
    }

    private static double Slice(List<double[]> points, double[] reference)
    {
        var d = reference.Length;
        if (points.Count == 0)
        {
            return 0;
        }

        if (d == 1)
        {
            return reference[0] - points.Min(p => p[0]);
        }

        if (d == 2)
        {
            var volume = 0.0;
            var bestSecond = reference[1];
            foreach (var p in points.OrderBy(p => p[0]).ThenBy(p => p[1]))
            {
                if (p[1] < bestSecond)
                {
                    volume += (reference[0] - p[0]) * (bestSecond - p[1]);
                    bestSecond = p[1];
                }
            }

            return volume;
        }

        // Slices between consecutive values of the last objective: each the (d-1)-volume of the points at or below it.
        var sorted = points.OrderBy(p => p[d - 1]).ToList();
        var lower = reference[..(d - 1)];
        var total = 0.0;
        for (var i = 0; i < sorted.Count; i++)
        {
            var top = i + 1 < sorted.Count ? sorted[i + 1][d - 1] : reference[d - 1];
            var height = top - sorted[i][d - 1];
            if (height > 0)
            {
                total += height * Slice([.. sorted.Take(i + 1).Select(p => p[..(d - 1)])], lower);
            }
        }

        return total;
    }
}
