namespace Tuner.Core.Search.Pareto;

/// <summary>
/// Constraints a trainable reports as metrics named <c>constraint_*</c>, as Optuna's <c>constraints_func</c>: a value at or
/// below 0 is satisfied. A trial is feasible when every constraint it reports is satisfied; its violation is the sum of the
/// positive values (a value that is not finite violates by infinity).
/// </summary>
public static class Constraints
{
    public const string Prefix = "constraint_";

    /// <summary>The total violation of the constraints in <paramref name="metrics"/>: 0 when feasible (or when it reports none).</summary>
    public static double Violation(IReadOnlyDictionary<string, double>? metrics)
    {
        if (metrics is null)
        {
            return 0;
        }

        var total = 0.0;
        foreach (var (name, value) in metrics)
        {
            if (name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                total += double.IsNaN(value) ? double.PositiveInfinity : Math.Max(0, value);
            }
        }

        return total;
    }

    public static bool IsFeasible(IReadOnlyDictionary<string, double>? metrics) => Violation(metrics) == 0;
}
