namespace Tuner.Core.Schedulers;

/// <summary>One rung of a bracket: how many configs run, and the resource each gets.</summary>
public readonly record struct Rung(long Configs, double Resource);

/// <summary>One Hyperband bracket: successive halving from its first rung to the maximum resource.</summary>
public sealed record Bracket(int S, IReadOnlyList<Rung> Rungs)
{
    /// <summary>The total resource the bracket spends: configs x resource (each rung's resource counted in full).</summary>
    public double Cost => Rungs.Sum(r => r.Configs * r.Resource);
}

/// <summary>
/// Hyperband's brackets (Li et al., JMLR 2018) for maximum resource R and reduction factor eta:
/// <c>s_max = floor(log_eta R)</c>; bracket s starts <c>n = ceil((s_max + 1) / (s + 1) x eta^s)</c> configs
/// at <c>r = R x eta^-s</c>; rung i keeps <c>floor(n x eta^-i)</c> configs at <c>r x eta^i</c>.
/// </summary>
public static class HyperbandPlan
{
    public static IReadOnlyList<Bracket> Brackets(double maxResource, double eta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(eta, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxResource, 1);
        var sMax = LogFloor(maxResource, eta);
        var brackets = new List<Bracket>(sMax + 1);
        for (var s = sMax; s >= 0; s--)
        {
            var n = (long)Math.Ceiling(((sMax + 1.0) / (s + 1)) * Math.Pow(eta, s) - 1e-9);
            var r = maxResource * Math.Pow(eta, -s);
            var rungs = new List<Rung>(s + 1);
            for (var i = 0; i <= s; i++)
            {
                rungs.Add(new Rung((long)Math.Floor((n * Math.Pow(eta, -i)) + 1e-9), r * Math.Pow(eta, i)));
            }

            brackets.Add(new Bracket(s, rungs));
        }

        return brackets;
    }

    /// <summary>floor(log_base(value)), exact for powers of the base.</summary>
    private static int LogFloor(double value, double @base)
    {
        var k = 0;
        for (var power = @base; power <= value * (1 + 1e-12); power *= @base)
        {
            k++;
        }

        return k;
    }
}
