namespace Tuner.Core.Trainables;

/// <summary>
/// Sleeps <c>seconds</c> per iteration and reports <c>reports</c> times: a stand-in for real training
/// in scheduling and scalability benchmarks. Reports a seeded <c>value</c> in [0, 1).
/// </summary>
public sealed class SleepTrainable : ITrainable
{
    private TimeSpan _period;
    private long _reports;
    private int _seed;
    private long _iteration;

    public static TrainableDescriptor Descriptor { get; } = new(
        "sleep",
        "Sleeps a configured time per iteration; for scheduling benchmarks",
        ["value"],
        [new("seconds", false, "seconds per iteration (default 1)"), new("reports", false, "how many iterations (default 10)")],
        () => new SleepTrainable(),
        AcceptsAnyParameters: true);

    public ValueTask SetupAsync(TrialContext context, CancellationToken cancellationToken)
    {
        _period = TimeSpan.FromSeconds(context.Config.GetDouble("seconds", 1.0));
        _reports = context.Config.GetInteger("reports", 10);
        _seed = context.Seed;
        return ValueTask.CompletedTask;
    }

    public async ValueTask<StepResult> StepAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(_period, cancellationToken).ConfigureAwait(false);
        _iteration++;
        return new StepResult(new Dictionary<string, double>(1) { ["value"] = SeededNoise.Uniform(_seed, _iteration) }, _iteration >= _reports);
    }

    public ValueTask SaveCheckpointAsync(string directory, CancellationToken cancellationToken) =>
        IterationCheckpoint.SaveAsync(directory, _iteration, cancellationToken);

    public async ValueTask RestoreCheckpointAsync(string directory, CancellationToken cancellationToken) =>
        _iteration = await IterationCheckpoint.LoadAsync(directory, cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
