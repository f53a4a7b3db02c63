using System.Security.Cryptography;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Spec;

namespace Tuner.Client;

/// <summary>Submits experiments to a Tuner cluster, watches them and stops them.</summary>
public sealed class TunerClient(IGrainFactory grains, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>How often <see cref="WaitAsync"/> reports progress; it returns as soon as the experiment ends, whatever this is.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How many trial rows each progress snapshot carries.</summary>
    public int ProgressRows { get; init; } = 20;

    /// <summary>A new experiment id: the spec's name, the UTC start time and a random suffix.</summary>
    public string NewExperimentId(ExperimentSpec spec) =>
        $"{spec.Name}-{_time.GetUtcNow():yyyyMMdd'T'HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    /// <summary>
    /// Starts an experiment; its results go under <paramref name="outputRoot"/> on the scheduler's host.
    /// The cluster validates the spec against the trainables its workers have.
    /// </summary>
    /// <exception cref="SpecException">The cluster rejected the spec; every problem is listed.</exception>
    public async Task<string> StartAsync(ExperimentSpec spec, string outputRoot, string? experimentId = null)
    {
        var id = experimentId ?? NewExperimentId(spec);
        try
        {
            await grains.GetGrain<IExperimentGrain>(id).StartAsync(new ExperimentSubmission(spec, Path.GetFullPath(outputRoot)));
        }
        catch (ExperimentRejectedException ex)
        {
            throw ex.ToSpecException();
        }

        return id;
    }

    public Task<ExperimentSnapshot> GetAsync(string experimentId, int maxRows = 20) =>
        grains.GetGrain<IExperimentGrain>(experimentId).GetSnapshotAsync(maxRows);

    public Task StopAsync(string experimentId, string reason = "stopped by the user") =>
        grains.GetGrain<IExperimentGrain>(experimentId).StopAsync(reason);

    /// <summary>
    /// Waits for the experiment to end, reporting each snapshot to <paramref name="progress"/>. When
    /// <paramref name="cancellationToken"/> fires, the experiment is stopped and the wait goes on until it has ended.
    /// </summary>
    public async Task<ExperimentSnapshot> WaitAsync(string experimentId, IProgress<ExperimentSnapshot>? progress = null, CancellationToken cancellationToken = default)
    {
        var stopRequested = false;
        var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);
        var experiment = grains.GetGrain<IExperimentGrain>(experimentId);
        while (true)
        {
            var snapshot = await GetAsync(experimentId, ProgressRows);
            progress?.Report(snapshot);
            if (snapshot.IsFinal)
            {
                return snapshot;
            }

            if (cancellationToken.IsCancellationRequested && !stopRequested)
            {
                stopRequested = true;
                await StopAsync(experimentId, "stopped by the user");
                continue;
            }

            // Wakes at once when the experiment ends, else after one interval, or when the caller cancels.
            var ended = experiment.WaitForEndAsync(PollInterval);
            if (stopRequested)
            {
                await ended;
            }
            else
            {
                await Task.WhenAny(ended, cancelled);
            }
        }
    }

    /// <summary>Runs an experiment to its end: <see cref="StartAsync"/> then <see cref="WaitAsync"/>.</summary>
    public async Task<ExperimentSnapshot> RunAsync(ExperimentSpec spec, string outputRoot, IProgress<ExperimentSnapshot>? progress = null, CancellationToken cancellationToken = default)
    {
        var id = await StartAsync(spec, outputRoot);
        return await WaitAsync(id, progress, cancellationToken);
    }
}
