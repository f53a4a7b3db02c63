using Tuner.Core.Experiments;
using Tuner.Abstractions.Messages;
using Tuner.Core.Spec;

namespace Tuner.Client;

/// <summary>
/// Submits, watches and steers experiments. Two implementations with the same behaviour:
/// <see cref="TunerClient"/> talks to a Scheduler.Silo over gRPC (tuner.v1); Tuner.Embedded's <c>ClusterTunerClient</c>
/// talks to the grains directly, in the process that hosts them (<c>EmbeddedTuner</c>).
/// <see cref="TunerClientExtensions.RunAsync"/> runs a whole experiment through either.
/// </summary>
public interface ITunerClient
{
    /// <summary>Starts an experiment. A custom trainable's assembly is uploaded with it when <see cref="SubmitOptions.UploadCode"/>.</summary>
    /// <exception cref="SpecException">The service rejected the spec; every problem is listed with its field.</exception>
    Task<ExperimentSnapshot> SubmitAsync(ExperimentSpec spec, SubmitOptions? options = null, CancellationToken cancellationToken = default);

    Task<ExperimentSnapshot> GetAsync(string experimentId, int maxTrials = 20, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ExperimentSnapshot>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Every event after <paramref name="afterPosition"/>, then new ones as they happen, until the experiment has ended. Reconnects by itself.</summary>
    IAsyncEnumerable<ExperimentEvent> WatchAsync(string experimentId, long afterPosition = 0, CancellationToken cancellationToken = default);

    /// <summary>Stops the experiment and returns once it has ended (its files written).</summary>
    Task<ExperimentSnapshot> StopAsync(string experimentId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Continues a stopped experiment.</summary>
    Task<ExperimentSnapshot> ResumeAsync(string experimentId, CancellationToken cancellationToken = default);

    /// <summary>Continues a completed experiment to <paramref name="samples"/> configs, its searcher going on from its journal.</summary>
    Task<ExperimentSnapshot> ExtendAsync(string experimentId, int samples, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<TrialRow>> ListTrialsAsync(string experimentId, CancellationToken cancellationToken = default);

    Task<TrialInfo> GetTrialAsync(string experimentId, string trialId, CancellationToken cancellationToken = default);

    Task<TrialInfo> StopTrialAsync(string experimentId, string trialId, string? reason = null, CancellationToken cancellationToken = default);
}

/// <summary>How an experiment is submitted.</summary>
public sealed record SubmitOptions
{
    /// <summary>The experiment's id; generated when null. Retried submissions with one id start one experiment.</summary>
    public string? ExperimentId { get; init; }

    /// <summary>Upload a custom trainable's assembly (and the files beside it) with the spec, rather than expect it on the workers.</summary>
    public bool UploadCode { get; init; } = true;

    /// <summary>Where results go, for an in-process cluster; a server uses its own setting.</summary>
    public string OutputRoot { get; init; } = "runs";
}
