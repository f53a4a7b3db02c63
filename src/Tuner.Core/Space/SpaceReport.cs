using System.Globalization;
using Tuner.Core.Schedulers;
using Tuner.Core.Search;
using Tuner.Core.Spec;

namespace Tuner.Core.Space;

/// <summary>One dimension as <c>tuner space</c> describes it.</summary>
/// <param name="Kind">float, integer or categorical.</param>
/// <param name="Range">The values it takes, in words (<c>[0.0001, 0.1] log</c>, <c>16..128 step 16</c>, <c>sgd, adam</c>).</param>
/// <param name="Cardinality">How many distinct values; null for a continuous dimension.</param>
/// <param name="When">For a conditional dimension, when it is active (<c>optimizer in [sgd]</c>); null otherwise.</param>
public sealed record DimensionReport(string Name, string Primitive, string Kind, string Range, long? Cardinality, string? When = null);

/// <summary>
/// What a spec's search space amounts to: its dimensions, how many distinct configs there are
/// (null: unbounded), how many samples it takes to try <see cref="Coverage"/> values of every
/// dimension in combination, the early-stopping scheduler's plan (configs and resource per rung,
/// and the total resource against running every config to the maximum), and, when the sample
/// budget is far too small for the space (the curse of dimensionality), what to fix first.
/// </summary>
public sealed record SpaceReport(
    IReadOnlyList<DimensionReport> Dimensions,
    long? DistinctConfigs,
    long TrialBudget,
    int Coverage,
    double SamplesForCoverage,
    double ValuesPerDimensionCovered,
    IReadOnlyList<Bracket> Brackets,
    double? PlanResource,
    double? FullResource,
    string? PlanNote,
    string? Warning)
{
    /// <summary>
    /// The order the course suggests tuning in: learning rate first, then size (units, filters,
    /// layers), then regularisation, then the rest. Dimensions late in it are the first to fix.
    /// </summary>
    private static readonly string[][] Priority =
    [
        ["lr", "learning_rate", "max_lr"],
        ["hidden_size", "units", "filters", "embedding_dim"],
        ["num_layers", "layers", "conv_layers", "dense_layers"],
        ["model", "cell", "optimizer", "encoder"],
        ["dropout", "weight_decay", "batch_norm"],
        ["batch_size", "momentum", "kernel", "pooling", "activation"],
    ];

    public static SpaceReport For(ExperimentSpec spec, int coverage = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(coverage, 2);
        var dimensions = spec.Space.Select(d => Describe(d.Key, d.Value) with { When = spec.Space.ConditionOf(d.Key)?.Describe() }).ToList();
        long? distinct = 1;
        foreach (var d in dimensions)
        {
            distinct = d.Cardinality is { } c && distinct is { } so ? (so > long.MaxValue / Math.Max(c, 1) ? long.MaxValue : so * c) : null;
        }

        var budget = VariantGenerator.CountTrials(spec);
        var needed = dimensions.Aggregate(1.0, (n, d) => n * Math.Min(coverage, d.Cardinality ?? coverage));
        var perDimension = dimensions.Count == 0 ? 0 : Math.Pow(Math.Max(budget, 1), 1.0 / dimensions.Count);
        var (brackets, plan, full, note) = Plan(spec, budget);
        string? warning = null;
        if (dimensions.Count > 0 && budget * 10 < needed)
        {
            var fixFirst = dimensions.Select(d => d.Name).OrderByDescending(Rank).ThenBy(n => n, StringComparer.Ordinal).Take(Math.Max(1, dimensions.Count / 3)).ToArray();
            warning = $"{budget:N0} samples cannot cover {dimensions.Count} dimensions: trying {coverage} values of each in combination takes {needed:N0}, "
                + $"and {budget:N0} samples are about {perDimension.ToString("F1", CultureInfo.InvariantCulture)} values per dimension. "
                + $"Fix (move to params) or drop first: {string.Join(", ", fixFirst)}; tune the learning rate and the model's size first.";
        }

        return new SpaceReport(dimensions, distinct, budget, coverage, needed, perDimension, brackets, plan, full, note, warning);
    }

    private static int Rank(string name)
    {
        for (var i = 0; i < Priority.Length; i++)
        {
            if (Priority[i].Contains(name, StringComparer.Ordinal))
            {
                return i;
            }
        }

        return Priority.Length;
    }

    private static (IReadOnlyList<Bracket>, double?, double?, string?) Plan(ExperimentSpec spec, long budget)
    {
        var s = spec.Scheduler;
        double? maxT = s.Algorithm == "fifo" ? spec.Stop.TrainingIteration : s.MaxT;
        var full = maxT is { } m ? budget * m : (double?)null;
        switch (s.Algorithm)
        {
            case "asha":
            {
                // The stopping form lets the top 1/rf on at each rung, in expectation, and the first arrival
                // always: at least one config reaches every rung. Survivors of the last rung run to max_t.
                var milestones = AshaScheduler.RungMilestones(s.MaxT, s.GracePeriod, s.ReductionFactor);
                long Reaching(int k) => Math.Max(1, (long)Math.Round(budget / Math.Pow(s.ReductionFactor, k)));
                var rungs = milestones.Select((r, k) => new Rung(Reaching(k), r)).ToList();
                if (milestones[^1] < s.MaxT)
                {
                    rungs.Add(new Rung(Reaching(milestones.Count), s.MaxT));
                }

                return (new[] { new Bracket(0, rungs) }, Incremental(rungs), full, $"asha: rungs at {string.Join(", ", rungs.Select(r => F(r.Resource)))} {s.TimeAttr}; expected counts, as each rung lets the top 1/{F(s.ReductionFactor)} on (and its first arrival)");
            }

            case "asha_promotion":
            {
                // The promotion form promotes exactly floor(n / rf) from each rung, resuming from checkpoints.
                var milestones = AshaScheduler.RungMilestones(s.MaxT, s.GracePeriod, s.ReductionFactor).Where(m => m < s.MaxT).Append(s.MaxT).ToList();
                var rungs = new List<Rung>();
                var reaching = budget;
                foreach (var milestone in milestones)
                {
                    rungs.Add(new Rung(reaching, milestone));
                    reaching = (long)Math.Floor((reaching / s.ReductionFactor) + 1e-9);
                }

                return (new[] { new Bracket(0, rungs) }, Incremental(rungs), full, $"asha_promotion: rungs at {string.Join(", ", rungs.Select(r => F(r.Resource)))} {s.TimeAttr}; the top floor(n/{F(s.ReductionFactor)}) of each rung are promoted and resume from their checkpoints");
            }

            case "hyperband" or "bohb":
            {
                // One cycle of the paper's brackets; survivors resume from their checkpoints, so a rung costs only its increment.
                var brackets = HyperbandPlan.Brackets(s.MaxT, s.ReductionFactor);
                var configs = brackets.Sum(b => b.Rungs[0].Configs);
                var cycles = budget / (double)configs;
                var cycleFull = configs * s.MaxT;
                return (brackets, brackets.Sum(b => Incremental(b.Rungs)), cycleFull,
                    $"{s.Algorithm}: one cycle of {brackets.Count} brackets takes {configs} configs; {budget:N0} samples run {cycles.ToString("F2", CultureInfo.InvariantCulture)} cycle(s) (totals below are for one cycle)");
            }

            case "pbt":
                return (Array.Empty<Bracket>(), full, full, $"pbt: every trial runs to the end; every {F(s.PerturbationInterval)} {s.TimeAttr} the bottom {F(s.QuantileFraction * 100)}% copy the top {F(s.QuantileFraction * 100)}%'s checkpoints and explore their configs");

            case "median":
                return (Array.Empty<Bracket>(), null, full, "median: stops depend on the curves, so there is no plan to show");

            default:
                return (new[] { new Bracket(0, [new Rung(budget, maxT ?? double.NaN)]) }, full, full, maxT is null ? "fifo: every trial runs until the trainable is done (no stop.training_iteration)" : "fifo: every trial runs to the end");
        }
    }

    /// <summary>The resource a bracket spends when each rung's configs go on from the rung below: configs x the increment.</summary>
    private static double Incremental(IReadOnlyList<Rung> rungs)
    {
        var total = 0.0;
        var previous = 0.0;
        foreach (var rung in rungs)
        {
            total += rung.Configs * (rung.Resource - previous);
            previous = rung.Resource;
        }

        return total;
    }

    private static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static DimensionReport Describe(string name, Domain domain) => domain switch
    {
        UniformDomain d => new(name, domain.Primitive, "float", $"[{F(d.Low)}, {F(d.High)})", null),
        QUniformDomain d => new(name, domain.Primitive, "float", $"[{F(d.Low)}, {F(d.High)}] step {F(d.Q)}", (long)Math.Floor(((d.High - d.Low) / d.Q) + 1e-9) + 1),
        LogUniformDomain d => new(name, domain.Primitive, "float", $"[{F(d.Low)}, {F(d.High)}) log", null),
        QLogUniformDomain d => new(name, domain.Primitive, "float", $"[{F(d.Low)}, {F(d.High)}] log, step {F(d.Q)}", null),
        NormalDomain d => new(name, domain.Primitive, "float", $"normal, mean {F(d.Mean)}, sd {F(d.StandardDeviation)}", null),
        RandIntDomain d => new(name, domain.Primitive, "integer", $"{d.Low}..{d.High - 1}", d.High - d.Low),
        QRandIntDomain d => new(name, domain.Primitive, "integer", $"{d.Low}..{d.High} step {d.Q}", ((d.High - d.Low) / d.Q) + 1),
        LogRandIntDomain d => new(name, domain.Primitive, "integer", $"{d.Low}..{d.High - 1} log", d.High - d.Low),
        ChoiceDomain d => new(name, domain.Primitive, "categorical", string.Join(", ", d.Values.Select(v => v.ToDisplayString())), d.Values.Count),
        GridDomain d => new(name, domain.Primitive, "categorical (grid)", string.Join(", ", d.Values.Select(v => v.ToDisplayString())), d.Values.Count),
        _ => new(name, domain.Primitive, "?", domain.Usage, null),
    };
}
