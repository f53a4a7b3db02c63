using Tuner.Core.Space;

namespace Tuner.Core.Trainables;

/// <summary>
/// A test function turned into a trainable whose reports improve with training: iteration t reports
/// <c>f(x) + exp(-t / fidelity_decay) * (offset + noise * z_t)</c>, where z_t is seeded noise.
/// Early reports are biased and noisy, later ones approach f(x): what Hyperband and ASHA exploit.
/// </summary>
public abstract class MultiFidelityFunction : ITrainable
{
    private double _trueValue;
    private double _decay;
    private double _noise;
    private long _maxIterations;
    private int _seed;
    private long _iteration;

    protected abstract double Offset { get; }

    protected static IReadOnlyList<TrainableParameter> CommonParameters { get; } =
    [
        new("max_iterations", false, "iterations after which the trial is done (default 100)"),
        new("noise", false, "standard deviation of the seeded noise at iteration 0 (default: the function's)"),
        new("fidelity_decay", false, "iterations over which bias and noise shrink by a factor e (default 1.5)"),
    ];

    /// <summary>The noise's standard deviation at iteration 0 when the config does not set it.</summary>
    protected abstract double DefaultNoise { get; }

    /// <summary>The function's value at the config's point.</summary>
    protected abstract double Evaluate(TrialConfig config);

    /// <summary>Adds the config's constraint metrics (<c>constraint_*</c>) to each report; null when it has none.</summary>
    protected virtual Action<Dictionary<string, double>>? Constraints(TrialConfig config) => null;

    private Action<Dictionary<string, double>>? _constraints;

    public ValueTask SetupAsync(TrialContext context, CancellationToken cancellationToken)
    {
        _trueValue = Evaluate(context.Config);
        _constraints = Constraints(context.Config);
        _decay = context.Config.GetDouble("fidelity_decay", 1.5);
        _noise = context.Config.GetDouble("noise", DefaultNoise);
        _maxIterations = context.Config.GetInteger("max_iterations", 100);
        _seed = context.Seed;
        _iteration = 0;
        return ValueTask.CompletedTask;
    }

    public ValueTask<StepResult> StepAsync(CancellationToken cancellationToken)
    {
        _iteration++;
        var shrink = Math.Exp(-_iteration / _decay);
        var value = _trueValue + (shrink * (Offset + (_noise * SeededNoise.Normal(_seed, _iteration))));
        var metrics = new Dictionary<string, double>(1) { ["value"] = value };
        _constraints?.Invoke(metrics);
        return ValueTask.FromResult(new StepResult(metrics, _iteration >= _maxIterations));
    }

    public ValueTask SaveCheckpointAsync(string directory, CancellationToken cancellationToken) =>
        IterationCheckpoint.SaveAsync(directory, _iteration, cancellationToken);

    public async ValueTask RestoreCheckpointAsync(string directory, CancellationToken cancellationToken) =>
        _iteration = await IterationCheckpoint.LoadAsync(directory, cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
