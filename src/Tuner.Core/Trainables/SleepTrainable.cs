namespace Tuner.Core.Trainables;

/// <summary>
/// Reports <c>reports</c> times, one every <c>seconds</c>: a stand-in for real training in scheduling and
/// scalability benchmarks. The reports keep their rate (iteration k is due <c>k x seconds</c> after setup),
/// so time the tuner spends on a report is absorbed as long as it is shorter than the period, as a
/// real training step runs on while its result is handled. Reports a seeded <c>value</c> in [0, 1).
/// </summary>
public sealed class SleepTrainable : ITrainable
{
    private TimeSpan _period;
    private long _reports;
    private int _seed;
    private long _iteration;
    private long _firstIteration;
    private long _start;
    private readonly TimeProvider _time = TimeProvider.System;

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
        _start = _time.GetTimestamp();
        return ValueTask.CompletedTask;
    }

    public async ValueTask<StepResult> StepAsync(CancellationToken cancellationToken)
    {
        var due = _period * (_iteration - _firstIteration + 1) - _time.GetElapsedTime(_start);
        await Task.Delay(due > TimeSpan.Zero ? due : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        _iteration++;
        return new StepResult(new Dictionary<string, double>(1) { ["value"] = SeededNoise.Uniform(_seed, _iteration) }, _iteration >= _reports);
    }

    public ValueTask SaveCheckpointAsync(string directory, CancellationToken cancellationToken) =>
        IterationCheckpoint.SaveAsync(directory, _iteration, cancellationToken);

    public async ValueTask RestoreCheckpointAsync(string directory, CancellationToken cancellationToken)
    {
        _iteration = await IterationCheckpoint.LoadAsync(directory, cancellationToken).ConfigureAwait(false);
        _firstIteration = _iteration;
        _start = _time.GetTimestamp();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
