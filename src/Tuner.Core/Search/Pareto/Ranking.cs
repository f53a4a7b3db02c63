namespace Tuner.Core.Search.Pareto;

/// <summary>
/// Orders completed trials for a searcher that keeps the best few (TPE's "below" set), as Optuna's TPE and MOTPE do:
/// feasible trials before infeasible ones (these by their total violation); with one objective by its value; with several by
/// non-domination rank, and within the rank that is cut, greedily by hypervolume contribution (the trials that add the most
/// to the volume the kept ones dominate, against a point a tenth beyond the rank's worst).
/// </summary>
public static class Ranking
{
    /// <summary>
    /// A value per trial whose order is the ranking (lower is better); the <paramref name="keep"/> lowest are exactly the kept
    /// ones. One objective and nothing infeasible: the objective itself.
    /// </summary>
    public static double[] Order(IReadOnlyList<double[]> losses, IReadOnlyList<double> violations, int keep)
    {
        var n = losses.Count;
        var feasible = violations.All(v => v == 0);
        if (n == 0 || (losses[0].Length == 1 && feasible))
        {
            return [.. losses.Select(l => l[0])];
        }

        int[] order;
        if (losses[0].Length == 1)
        {
            order = [.. Enumerable.Range(0, n).OrderBy(i => violations[i] > 0).ThenBy(i => violations[i] > 0 ? violations[i] : losses[i][0]).ThenBy(i => i)];
        }
        else
        {
            var ranks = Pareto.Ranks(losses, violations);
            var byRank = Enumerable.Range(0, n).OrderBy(i => ranks[i]).ThenBy(i => i).ToList();
            var kept = new List<int>();
            foreach (var group in byRank.GroupBy(i => ranks[i]))
            {
                var members = group.ToList();
                if (kept.Count + members.Count <= keep || kept.Count >= keep)
                {
                    kept.AddRange(members);
                    continue;
                }

                // The rank that is cut: its members by greedy hypervolume contribution, those that make the cut first.
                kept.AddRange(ByContribution(members, losses, keep - kept.Count));
            }

            order = [.. kept];
        }

        var position = new double[n];
        for (var k = 0; k < n; k++)
        {
            position[order[k]] = k;
        }

        return position;
    }

    /// <summary><paramref name="members"/> reordered: <paramref name="count"/> chosen one at a time by the most added hypervolume, then the rest.</summary>
    private static List<int> ByContribution(List<int> members, IReadOnlyList<double[]> losses, int count)
    {
        var objectives = losses[members[0]].Length;
        var reference = new double[objectives];
        for (var m = 0; m < objectives; m++)
        {
            var worst = members.Max(i => losses[i][m]);
            reference[m] = worst == 0 ? 1e-12 : worst > 0 ? worst * 1.1 : worst * 0.9;
        }

        var chosen = new List<int>();
        var left = new List<int>(members);
        var volume = 0.0;
        while (chosen.Count < count && left.Count > 0)
        {
            var best = left[0];
            var bestVolume = double.NegativeInfinity;
            foreach (var candidate in left)
            {
                var with = Hypervolume.Compute([.. chosen.Select(i => losses[i]), losses[candidate]], reference);
                if (with - volume > bestVolume)
                {
                    best = candidate;
                    bestVolume = with - volume;
                }
            }

            chosen.Add(best);
            left.Remove(best);
            volume += bestVolume;
        }

        return [.. chosen, .. left];
    }
}
