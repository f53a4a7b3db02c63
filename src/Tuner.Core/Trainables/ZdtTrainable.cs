using Tuner.Core.Space;

namespace Tuner.Core.Trainables;

/// <summary>
/// Zitzler, Deb and Thiele's bi-objective test problems ZDT1 (a convex front) and ZDT2 (a concave one) over six dimensions
/// <c>x1</c>..<c>x6</c> in [0, 1], both objectives minimised: <c>f1 = x1</c>, <c>g = 1 + 9 (x2 + ... + x6) / 5</c>, and
/// <c>f2 = g (1 - sqrt(f1 / g))</c> (ZDT1) or <c>g (1 - (f1 / g)^2)</c> (ZDT2); the Pareto front is g = 1. Reports <c>f1</c> and
/// <c>f2</c>; with <c>max_iterations</c> above 1 (the multi-fidelity variant), iteration t reports
/// <c>f2 + exp(-t / fidelity_decay) (1 + noise z_t)</c>, biased and noisy early as a model in training.
/// </summary>
public sealed class ZdtTrainable(int variant) : ITrainable
{
    public const int Dimensions = 6;

    private double _f1;
    private double _f2;
    private double _decay;
    private double _noise;
    private long _maxIterations;
    private int _seed;
    private long _iteration;

    public static TrainableDescriptor Zdt1 { get; } = Describe(1, "convex");

    public static TrainableDescriptor Zdt2 { get; } = Describe(2, "concave");

    private static TrainableDescriptor Describe(int variant, string shape) => new(
        $"zdt{variant}",
        $"ZDT{variant} bi-objective test problem (6-D, a {shape} Pareto front at g = 1), multi-fidelity",
        ["f1", "f2"],
        [
            .. Enumerable.Range(1, Dimensions).Select(i => new TrainableParameter($"x{i}", true, "in [0, 1]")),
            new("max_iterations", false, "reports (default 1: the exact value)"),
            new("noise", false, "standard deviation of the seeded noise at iteration 0 (default 0.5)"),
            new("fidelity_decay", false, "iterations over which bias and noise shrink by a factor e (default 1.5)"),
        ],
        () => new ZdtTrainable(variant));

    /// <summary>The exact objectives at <paramref name="x"/> (six coordinates in [0, 1]).</summary>
    public static (double F1, double F2) Evaluate(int variant, IReadOnlyList<double> x)
    {
        var f1 = x[0];
        var g = 1 + (9 * x.Skip(1).Sum() / (x.Count - 1));
        var f2 = variant == 1 ? g * (1 - Math.Sqrt(f1 / g)) : g * (1 - Math.Pow(f1 / g, 2));
        return (f1, f2);
    }

    public ValueTask SetupAsync(TrialContext context, CancellationToken cancellationToken)
    {
        (_f1, _f2) = Evaluate(variant, [.. Enumerable.Range(1, Dimensions).Select(i => context.Config[$"x{i}"].AsDouble())]);
        _decay = context.Config.GetDouble("fidelity_decay", 1.5);
        _noise = context.Config.GetDouble("noise", 0.5);
        _maxIterations = context.Config.GetInteger("max_iterations", 1);
        _seed = context.Seed;
        _iteration = 0;
        return ValueTask.CompletedTask;
    }

    public ValueTask<StepResult> StepAsync(CancellationToken cancellationToken)
    {
        _iteration++;
        var f2 = _maxIterations <= 1 ? _f2 : _f2 + (Math.Exp(-_iteration / _decay) * (1 + (_noise * SeededNoise.Normal(_seed, _iteration))));
        var metrics = new Dictionary<string, double>(2) { ["f1"] = _f1, ["f2"] = f2 };
        return ValueTask.FromResult(new StepResult(metrics, _iteration >= _maxIterations));
    }

    public ValueTask SaveCheckpointAsync(string directory, CancellationToken cancellationToken) =>
        IterationCheckpoint.SaveAsync(directory, _iteration, cancellationToken);

    public async ValueTask RestoreCheckpointAsync(string directory, CancellationToken cancellationToken) =>
        _iteration = await IterationCheckpoint.LoadAsync(directory, cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
