using Tuner.Core.Experiments;
using System.Runtime.CompilerServices;
using Tuner.Abstractions.Grains;
using Tuner.Client;
using Tuner.Abstractions.Messages;
using Tuner.Core.Spec;

namespace Tuner.Embedded;

/// <summary>
/// Submits experiments to a Tuner cluster, watches them and stops them, through the grains: for the
/// process that hosts the cluster (embedded mode) or an Orleans client of it.
/// </summary>
public sealed class ClusterTunerClient(IGrainFactory grains, TimeProvider? time = null) : ITunerClient
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>How often <see cref="WaitAsync"/> reports progress; it returns as soon as the experiment ends, whatever this is.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How many trial rows each progress snapshot carries.</summary>
    public int ProgressRows { get; init; } = 20;

    /// <summary>A new experiment id: the spec's name, the UTC start time and a random suffix.</summary>
    public string NewExperimentId(ExperimentSpec spec) =>
        ExperimentIds.New(spec.Name, _time);

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


    /// <summary>
    /// Brings back the experiment whose run folder is <paramref name="runDirectory"/> from its journal
    /// (after the process that ran it was killed): finished trials stay finished and the rest go on
    /// from their checkpoints. Returns its id; a stopped experiment stays stopped until resumed.
    /// </summary>
    /// <exception cref="InvalidDataException">The folder holds no Tuner journal.</exception>
    /// <param name="spec">The spec the run was started with, when at hand: it supplies what the journal keeps redacted (a command's environment values).</param>
    public async Task<string> RestoreAsync(string runDirectory, ExperimentSpec? spec = null)
    {
        var run = Tuner.Core.Results.RunJournal.TryRead(Path.GetFullPath(runDirectory))
            ?? throw new InvalidDataException($"{runDirectory} holds no readable {Tuner.Core.Results.RunJournal.FileName}: it is not the folder of a Tuner run");
        await grains.GetGrain<IExperimentGrain>(run.ExperimentId).RestoreAsync(run.Directory, spec);
        return run.ExperimentId;
    }

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
            var snapshot = await experiment.GetSnapshotAsync(ProgressRows);
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

    public async Task<ExperimentSnapshot> SubmitAsync(ExperimentSpec spec, SubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SubmitOptions();
        var id = await StartAsync(spec, options.OutputRoot, options.ExperimentId);
        return await GetAsync(id, 20, cancellationToken);
    }

    public async Task<ExperimentSnapshot> GetAsync(string experimentId, int maxTrials = 20, CancellationToken cancellationToken = default) =>
        await (await ExistingAsync(experimentId)).GetSnapshotAsync(maxTrials);

    public async Task<IReadOnlyList<ExperimentSnapshot>> ListAsync(CancellationToken cancellationToken = default)
    {
        var list = new List<ExperimentSnapshot>();
        foreach (var listing in await Registry.ListAsync())
        {
            list.Add(await grains.GetGrain<IExperimentGrain>(listing.ExperimentId).GetSnapshotAsync(0));
        }

        return list;
    }

    public async IAsyncEnumerable<ExperimentEvent> WatchAsync(string experimentId, long afterPosition = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var experiment = await ExistingAsync(experimentId);
        await foreach (var e in experiment.ReadAllAsync(afterPosition, TimeSpan.FromSeconds(5), cancellationToken))
        {
            yield return e;
        }
    }

    async Task<ExperimentSnapshot> ITunerClient.StopAsync(string experimentId, string? reason, CancellationToken cancellationToken)
    {
        var experiment = await ExistingAsync(experimentId);
        await experiment.StopAsync(reason ?? "stopped by the user");
        return await experiment.GetSnapshotAsync(20);
    }

    public async Task<ExperimentSnapshot> ResumeAsync(string experimentId, CancellationToken cancellationToken = default) =>
        await (await ExistingAsync(experimentId)).ResumeAsync();

    public async Task<ExperimentSnapshot> ExtendAsync(string experimentId, int samples, CancellationToken cancellationToken = default)
    {
        var experiment = await ExistingAsync(experimentId);
        await experiment.ExtendAsync(samples);

        // The next call finds the grain restored from its journal, running again.
        return await experiment.GetSnapshotAsync(ProgressRows);
    }

    public async Task<IReadOnlyList<TrialRow>> ListTrialsAsync(string experimentId, CancellationToken cancellationToken = default) =>
        [.. (await (await ExistingAsync(experimentId)).GetSnapshotAsync(int.MaxValue)).Rows.OrderBy(r => r.TrialId, StringComparer.Ordinal)];

    public async Task<TrialInfo> GetTrialAsync(string experimentId, string trialId, CancellationToken cancellationToken = default) =>
        await (await ExistingAsync(experimentId)).GetTrialAsync(trialId);

    public async Task<TrialInfo> StopTrialAsync(string experimentId, string trialId, string? reason = null, CancellationToken cancellationToken = default)
    {
        var experiment = await ExistingAsync(experimentId);
        await experiment.StopTrialAsync(trialId, reason ?? "stopped by the user");
        return await experiment.GetTrialAsync(trialId);
    }

    private IExperimentRegistryGrain Registry => grains.GetGrain<IExperimentRegistryGrain>(IExperimentRegistryGrain.ClusterKey);

    private async Task<IExperimentGrain> ExistingAsync(string experimentId) =>
        await Registry.ContainsAsync(experimentId)
            ? grains.GetGrain<IExperimentGrain>(experimentId)
            : throw new TunerRequestException(RequestFailure.NotFound, $"no experiment '{experimentId}'");
}
