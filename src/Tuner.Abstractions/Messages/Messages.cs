using Tuner.Core.Experiments;
using Tuner.Core.Results;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Abstractions.Messages;

/// <summary>A request to run an experiment; results go under <c>OutputRoot/&lt;name&gt;</c> on the scheduler's host.</summary>
[GenerateSerializer, Immutable, Alias("Tuner.ExperimentSubmission")]
public sealed record ExperimentSubmission([property: Id(0)] ExperimentSpec Spec, [property: Id(1)] string OutputRoot);

/// <summary>
/// What a trial needs to run on a worker. Sent by the trial grain through the resource scheduler.
/// It carries the references of the trial and experiment grains, made once by the experiment.
/// </summary>
[GenerateSerializer, Immutable, Alias("Tuner.TrialAssignment")]
public sealed record TrialAssignment(
    [property: Id(0)] string ExperimentId,
    [property: Id(1)] string TrialId,
    [property: Id(2)] string Trainable,
    [property: Id(3)] TrialConfig Config,
    [property: Id(4)] int Seed,
    [property: Id(5)] int Attempt,
    [property: Id(6)] ResourceRequest Resources,
    [property: Id(7)] string CheckpointRoot,
    [property: Id(8)] int CheckpointFrequency,
    [property: Id(9)] int CheckpointKeep,
    [property: Id(10)] CheckpointRef? RestoreFrom,
    [property: Id(11)] Grains.ITrialGrain Trial,
    [property: Id(12)] Grains.IExperimentGrain Experiment,
    [property: Id(13)] CustomTrainableSpec? Custom = null,
    [property: Id(14)] IReadOnlyList<int>? GpuDevices = null,
    [property: Id(15)] string? TraceParent = null,
    [property: Id(16)] bool ReportsAhead = false,
    [property: Id(17)] bool SyncCheckpoints = false)
{
    /// <summary>The trial grain's key: unique across experiments.</summary>
    public string TrialKey => TrialKeys.Of(ExperimentId, TrialId);
}

public static class TrialKeys
{
    public static string Of(string experimentId, string trialId) => $"{experimentId}/{trialId}";
}

/// <summary>CPU slots (fractions allowed) and GPUs a trial holds while it runs.</summary>
[GenerateSerializer, Immutable, Alias("Tuner.ResourceRequest")]
public sealed record ResourceRequest([property: Id(0)] double Cpu, [property: Id(1)] double Gpu);

/// <summary>A saved checkpoint: its folder, the iteration it ends and the trial's training time until then.</summary>
[GenerateSerializer, Immutable, Alias("Tuner.CheckpointRef")]
public sealed record CheckpointRef([property: Id(0)] string Path, [property: Id(1)] long Iteration, [property: Id(2)] double TimeTotalS);

/// <summary>What the worker tells a trial after each report.</summary>
[GenerateSerializer, Alias("Tuner.TrialCommand")]
public enum TrialCommand
{
    Continue,
    Stop,
    Pause,
}

/// <summary>How a trial's run on a worker ended.</summary>
[GenerateSerializer, Alias("Tuner.TrialOutcomeKind")]
public enum TrialOutcomeKind
{
    /// <summary>The trainable said it was done.</summary>
    Finished,

    /// <summary>A stop decision or a cancellation ended it.</summary>
    Stopped,

    /// <summary>The trainable threw.</summary>
    Failed,

    /// <summary>A pause decision ended the run after a checkpoint; the trial resumes from it later.</summary>
    Paused,

    /// <summary>The worker is draining (asked to stop): it checkpointed the trial and hands it back to run elsewhere, no failure counted.</summary>
    HandedBack,
}

/// <summary>How a run ended; <paramref name="Attempt"/> is the assignment's, so that the trial ignores the end of a run it has moved past.</summary>
[GenerateSerializer, Immutable, Alias("Tuner.TrialOutcome")]
public sealed record TrialOutcome([property: Id(0)] TrialOutcomeKind Kind, [property: Id(1)] string? Error, [property: Id(2)] long LastIteration, [property: Id(3)] int Attempt = 0);

/// <summary>One result of a trial's run (<paramref name="Attempt"/>: the assignment's), as a worker sends it to the experiment.</summary>
[GenerateSerializer, Immutable, Alias("Tuner.TrialReport")]
public sealed record TrialReport([property: Id(0)] string TrialId, [property: Id(1)] int Attempt, [property: Id(2)] TrialResult Result);

/// <summary>A worker's capacity, announced to the resource scheduler.</summary>
[GenerateSerializer, Immutable, Alias("Tuner.WorkerInfo")]
public sealed record WorkerInfo([property: Id(0)] string WorkerId, [property: Id(1)] double CpuSlots, [property: Id(2)] int Gpus, [property: Id(3)] string Host, [property: Id(4)] IReadOnlyList<int>? GpuMemoryMb = null);

/// <summary>A worker as the scheduler sees it: capacity and what is in use.</summary>
[GenerateSerializer, Immutable, Alias("Tuner.WorkerUsage")]
public sealed record WorkerUsage([property: Id(0)] WorkerInfo Info, [property: Id(1)] double CpuUsed, [property: Id(2)] double GpuUsed, [property: Id(3)] int Trials);

[GenerateSerializer, Immutable, Alias("Tuner.ClusterResources")]
public sealed record ClusterResources([property: Id(0)] IReadOnlyList<WorkerUsage> Workers, [property: Id(1)] int Queued);

/// <summary>A trial's state held by its grain.</summary>
[GenerateSerializer, Immutable, Alias("Tuner.TrialInfo")]
public sealed record TrialInfo(
    [property: Id(0)] string ExperimentId,
    [property: Id(1)] string TrialId,
    [property: Id(2)] TrialStatus Status,
    [property: Id(3)] TrialConfig Config,
    [property: Id(4)] long LastIteration,
    [property: Id(5)] TrialResult? LastResult,
    [property: Id(6)] CheckpointRef? Checkpoint,
    [property: Id(7)] int Failures,
    [property: Id(8)] string? WorkerId,
    [property: Id(9)] string? StatusReason);

/// <summary>One row of the live trial table.</summary>
[GenerateSerializer, Immutable, Alias("Tuner.TrialRow")]
public sealed record TrialRow(
    [property: Id(0)] string TrialId,
    [property: Id(1)] TrialStatus Status,
    [property: Id(2)] TrialConfig Config,
    [property: Id(3)] long Iteration,
    [property: Id(4)] double? Metric,
    [property: Id(5)] int Failures,
    [property: Id(6)] string? StatusReason,
    [property: Id(7)] string? Diagnosis = null,
    [property: Id(8)] IReadOnlyList<string>? Decisions = null,
    [property: Id(9)] string? Worker = null);

/// <summary>An experiment as its grain sees it now.</summary>
[GenerateSerializer, Immutable, Alias("Tuner.ExperimentSnapshot")]
public sealed record ExperimentSnapshot(
    [property: Id(0)] string ExperimentId,
    [property: Id(1)] string Name,
    [property: Id(2)] ExperimentStatus Status,
    [property: Id(3)] string? StatusReason,
    [property: Id(4)] string? OutputDirectory,
    [property: Id(5)] string Metric,
    [property: Id(6)] OptimizationMode Mode,
    [property: Id(7)] long TotalTrials,
    [property: Id(8)] IReadOnlyDictionary<TrialStatus, int> StateCounts,
    [property: Id(9)] IReadOnlyList<TrialRow> Rows,
    [property: Id(10)] BestTrial? Best,
    [property: Id(11)] long ResultsReported,
    [property: Id(12)] double ElapsedS,
    [property: Id(13)] bool IsSpecError,
    [property: Id(14)] IReadOnlyList<BestTrial>? ParetoFront = null,
    [property: Id(15)] int InfeasibleTrials = 0,
    [property: Id(16)] IReadOnlyList<string>? Metrics = null)
{
    public int Count(TrialStatus status) => StateCounts.TryGetValue(status, out var n) ? n : 0;

    public bool IsFinal => Status != ExperimentStatus.Running;
}

/// <summary>
/// Events after a position. <see cref="Ended"/>: the experiment has ended and nothing follows the last
/// one. <see cref="FirstHeld"/>: the oldest position still held; a reader further back has missed events.
/// </summary>
[GenerateSerializer, Immutable, Alias("Tuner.EventPage")]
public sealed record EventPage([property: Id(0)] IReadOnlyList<ExperimentEvent> Events, [property: Id(1)] bool Ended, [property: Id(2)] long FirstHeld, [property: Id(3)] long LastPosition);

/// <summary>An experiment the cluster knows.</summary>
[GenerateSerializer, Immutable, Alias("Tuner.ExperimentListing")]
public sealed record ExperimentListing([property: Id(0)] string ExperimentId, [property: Id(1)] string Name, [property: Id(2)] DateTimeOffset Created);

/// <summary>Why a request to an experiment or trial could not be served.</summary>
[GenerateSerializer, Alias("Tuner.RequestFailure")]
public enum RequestFailure
{
    NotFound,
    FailedPrecondition,
    AlreadyExists,

    /// <summary>Events older than the experiment still holds were asked for.</summary>
    OutOfRange,
}

/// <summary>A request named something that does not exist, or asked for what its state does not allow.</summary>
[GenerateSerializer, Alias("Tuner.TunerRequestException")]
public sealed class TunerRequestException : Exception
{
    public TunerRequestException()
    {
    }

    public TunerRequestException(string message)
        : base(message)
    {
    }

    public TunerRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public TunerRequestException(RequestFailure failure, string message)
        : base(message)
    {
        Failure = failure;
    }

    [Id(0)]
    public RequestFailure Failure { get; init; }
}
