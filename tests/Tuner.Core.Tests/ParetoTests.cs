using Tuner.Core.Search.Pareto;

namespace Tuner.Core.Tests;

public sealed class ParetoTests
{
    private static readonly double[][] Points = [[1, 5], [2, 3], [3, 1], [2, 4], [4, 4], [5, 5]];

    [Fact]
    public void Ranks_PeelFrontAfterFront()
    {
        // Front: (1,5), (2,3), (3,1). (2,4) only by (2,3); (4,4) also by (2,4); (5,5) by (4,4).
        Assert.Equal([0, 0, 0, 1, 2, 3], Pareto.Ranks(Points));
        Assert.Equal([0, 1, 2], Pareto.Front(Points));

        // Equal vectors share a rank; the front lists the first of them once.
        Assert.Equal([0, 0, 1], Pareto.Ranks([[1, 1], [1, 1], [2, 2]]));
        Assert.Equal([0], Pareto.Front([[1, 1], [1, 1], [2, 2]]));
    }

    [Fact]
    public void CrowdingDistance_IsTheNormalisedGapBetweenNeighbours_EndsInfinite()
    {
        // Objective 0: 1, 2, 3 (range 2): the middle one's gap 2/2 = 1; objective 1: 1, 3, 5 (range 4): 4/4 = 1.
        var distance = Pareto.CrowdingDistance(Points, [0, 1, 2]);

        Assert.Equal([double.PositiveInfinity, 2.0, double.PositiveInfinity], distance);

        // Four on a line (range 3 in each objective): each inner one's neighbours are 2 apart in both, 2/3 + 2/3.
        double[][] line = [[1, 4], [2, 3], [3, 2], [4, 1]];
        Assert.Equal([double.PositiveInfinity, 4.0 / 3, 4.0 / 3, double.PositiveInfinity], Pareto.CrowdingDistance(line, [0, 1, 2, 3]));
    }

    [Fact]
    public void ConstrainedDomination_FeasibleFirst_ThenTheSmallerViolation()
    {
        double[][] points = [[5, 5], [1, 1], [0, 0], [3, 3]];
        double[] violations = [0, 0.5, 2, 0];

        // The feasible (5,5) and (3,3) come first, (3,3) dominating; then violation 0.5; then 2, whatever its objectives.
        Assert.Equal([1, 2, 3, 0], Pareto.Ranks(points, violations));
        Assert.True(Pareto.Dominates(points[0], 0, points[2], 2));
        Assert.False(Pareto.Dominates(points[2], 2, points[0], 0));
    }

    [Fact]
    public void Hypervolume_MatchesHandComputedAreasAndVolumes()
    {
        // (1,5), (2,3), (3,1) against (6,6): 5x1 + 4x2 + 3x2 = 19; dominated points and points beyond the reference add nothing.
        Assert.Equal(19, Hypervolume.Compute(Points, [6, 6]), 12);
        Assert.Equal(19, Hypervolume.Compute([.. Points, [7, 0]], [6, 6]), 12);

        // ZDT1's true front f2 = 1 - sqrt(f1) against (1, 1) dominates 1 - 1/3 = 2/3; a fine sample of it comes close from below.
        var front = Enumerable.Range(0, 2001).Select(i => i / 2000.0).Select(f1 => new[] { f1, 1 - Math.Sqrt(f1) });
        Assert.InRange(Hypervolume.Compute(front, [1, 1]), (2.0 / 3) - 1e-3, 2.0 / 3);

        // Three objectives: boxes 2x2x1 and 1x1x2 overlapping in a unit cube: 4 + 2 - 1.
        Assert.Equal(5, Hypervolume.Compute([[0, 0, 1], [1, 1, 0]], [2, 2, 2]), 12);
        Assert.Equal(1, Hypervolume.Compute([[1, 1, 1]], [2, 2, 2]), 12);
    }

    [Fact]
    public void Constraints_AreMetricsNamedConstraint_SatisfiedAtOrBelowZero()
    {
        Assert.Equal(0, Constraints.Violation(new Dictionary<string, double> { ["loss"] = 5, ["constraint_disk"] = -1, ["constraint_x"] = 0 }));
        Assert.Equal(2.5, Constraints.Violation(new Dictionary<string, double> { ["constraint_a"] = 2, ["constraint_b"] = 0.5, ["constraint_c"] = -3 }));
        Assert.False(Constraints.IsFeasible(new Dictionary<string, double> { ["constraint_a"] = double.NaN }));
        Assert.True(Constraints.IsFeasible(null));
    }
}
