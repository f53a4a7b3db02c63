namespace Tuner.Core.Trainables;

/// <summary>
/// Does nothing but report: <c>reports</c> iterations (default 10) of a seeded <c>value</c>. Measures
/// the tuner's own overhead. For fault-tolerance tests it can fail on purpose: with
/// <c>fail_at_iteration: k</c> the first <c>fail_attempts</c> attempts (default 1) throw at iteration k.
/// </summary>
public sealed class NoopTrainable : ITrainable
{
    private long _reports;
    private int _seed;
    private long _iteration;
    private long _failAt;
    private bool _failThisAttempt;

    public static TrainableDescriptor Descriptor { get; } = new(
        "noop",
        "Reports immediately; measures the tuner's overhead",
        ["value"],
        [
            new("reports", false, "how many iterations (default 10)"),
            new("fail_at_iteration", false, "throw at this iteration (default 0: never)"),
            new("fail_attempts", false, "how many attempts fail at fail_at_iteration (default 1)"),
        ],
        () => new NoopTrainable(),
        AcceptsAnyParameters: true);

    public ValueTask SetupAsync(TrialContext context, CancellationToken cancellationToken)
    {
        _reports = context.Config.GetInteger("reports", 10);
        _seed = context.Seed;
        _failAt = context.Config.GetInteger("fail_at_iteration", 0);
        _failThisAttempt = context.Attempt <= context.Config.GetInteger("fail_attempts", 1);
        return ValueTask.CompletedTask;
    }

    public ValueTask<StepResult> StepAsync(CancellationToken cancellationToken)
    {
        _iteration++;
        if (_failThisAttempt && _iteration == _failAt)
        {
            throw new InvalidOperationException($"noop failed on purpose at iteration {_iteration} (fail_at_iteration)");
        }

        var metrics = new Dictionary<string, double>(1) { ["value"] = SeededNoise.Uniform(_seed, _iteration) };
        return ValueTask.FromResult(new StepResult(metrics, _iteration >= _reports));
    }

    public ValueTask SaveCheckpointAsync(string directory, CancellationToken cancellationToken) =>
        IterationCheckpoint.SaveAsync(directory, _iteration, cancellationToken);

    public async ValueTask RestoreCheckpointAsync(string directory, CancellationToken cancellationToken) =>
        _iteration = await IterationCheckpoint.LoadAsync(directory, cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
