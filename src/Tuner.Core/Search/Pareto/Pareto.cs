namespace Tuner.Core.Search.Pareto;

/// <summary>
/// Pareto dominance over objective vectors, every objective minimised (a maximised metric enters negated): non-domination
/// ranks (Deb et al.'s fast non-dominated sort; rank 0 is the front), crowding distance within a rank (NSGA-II), and the
/// front itself. With constraints (Deb's constrained domination, as Optuna's NSGA-II): a feasible vector dominates every
/// infeasible one, and of two infeasible ones the one with the smaller total violation dominates.
/// </summary>
public static class Pareto
{
    /// <summary>Whether <paramref name="a"/> is no worse than <paramref name="b"/> in every objective and better in one.</summary>
    public static bool Dominates(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var better = false;
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] > b[i])
            {
                return false;
            }

            better |= a[i] < b[i];
        }

        return better;
    }

    /// <summary>Deb's constrained domination: violations (0: feasible) first, then <see cref="Dominates(ReadOnlySpan{double}, ReadOnlySpan{double})"/>.</summary>
    public static bool Dominates(ReadOnlySpan<double> a, double violationA, ReadOnlySpan<double> b, double violationB) =>
        violationA == 0 && violationB == 0 ? Dominates(a, b)
        : violationA == 0 || (violationB > 0 && violationA < violationB);

    /// <summary>Each vector's non-domination rank: 0 for the front, 1 for the front of the rest, and so on.</summary>
    public static int[] Ranks(IReadOnlyList<double[]> points, IReadOnlyList<double>? violations = null)
    {
        var n = points.Count;
        var dominatedBy = new int[n];
        var dominates = new List<int>[n];
        for (var i = 0; i < n; i++)
        {
            dominates[i] = [];
        }

        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                if (Dominates(points[i], violations?[i] ?? 0, points[j], violations?[j] ?? 0))
                {
                    dominates[i].Add(j);
                    dominatedBy[j]++;
                }
                else if (Dominates(points[j], violations?[j] ?? 0, points[i], violations?[i] ?? 0))
                {
                    dominates[j].Add(i);
                    dominatedBy[i]++;
                }
            }
        }

        var ranks = new int[n];
        var current = Enumerable.Range(0, n).Where(i => dominatedBy[i] == 0).ToList();
        for (var rank = 0; current.Count > 0; rank++)
        {
            var next = new List<int>();
            foreach (var i in current)
            {
                ranks[i] = rank;
                foreach (var j in dominates[i])
                {
                    if (--dominatedBy[j] == 0)
                    {
                        next.Add(j);
                    }
                }
            }

            current = next;
        }

        return ranks;
    }

    /// <summary>
    /// NSGA-II's crowding distance of each of <paramref name="members"/> (indices into <paramref name="points"/>, one rank):
    /// per objective, the members sorted, the two ends infinite, each other the gap between its neighbours over the range.
    /// </summary>
    public static double[] CrowdingDistance(IReadOnlyList<double[]> points, IReadOnlyList<int> members)
    {
        var distance = new double[members.Count];
        if (members.Count == 0)
        {
            return distance;
        }

        var objectives = points[members[0]].Length;
        for (var m = 0; m < objectives; m++)
        {
            var order = Enumerable.Range(0, members.Count).OrderBy(i => points[members[i]][m]).ThenBy(i => i).ToArray();
            var low = points[members[order[0]]][m];
            var high = points[members[order[^1]]][m];
            distance[order[0]] = double.PositiveInfinity;
            distance[order[^1]] = double.PositiveInfinity;
            if (high - low <= 0)
            {
                continue;
            }

            for (var k = 1; k < order.Length - 1; k++)
            {
                distance[order[k]] += (points[members[order[k + 1]]][m] - points[members[order[k - 1]]][m]) / (high - low);
            }
        }

        return distance;
    }

    /// <summary>The indices of the non-dominated vectors (the first of equal ones only), in their order.</summary>
    public static List<int> Front(IReadOnlyList<double[]> points)
    {
        var front = new List<int>();
        for (var i = 0; i < points.Count; i++)
        {
            var dominated = false;
            for (var k = front.Count - 1; k >= 0; k--)
            {
                var other = points[front[k]];
                if (Dominates(other, points[i]) || other.AsSpan().SequenceEqual(points[i]))
                {
                    dominated = true;
                    break;
                }

                if (Dominates(points[i], other))
                {
                    front.RemoveAt(k);
                }
            }

            if (!dominated)
            {
                front.Add(i);
            }
        }

        front.Sort();
        return front;
    }
}
