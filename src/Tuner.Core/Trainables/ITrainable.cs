namespace Tuner.Core.Trainables;

/// <summary>
/// A model (or function) being tuned, run one iteration at a time, as Ray's class trainables are.
/// The worker calls <see cref="SetupAsync"/> once per attempt, restores a checkpoint when the attempt
/// continues an earlier one, then calls <see cref="StepAsync"/> until the trainable says it is done
/// or the tuner stops it. Every step's metrics are one report.
/// </summary>
public interface ITrainable : IAsyncDisposable
{
    ValueTask SetupAsync(TrialContext context, CancellationToken cancellationToken);

    /// <summary>Runs one iteration (an epoch, a batch of epochs, one evaluation) and returns its metrics.</summary>
    ValueTask<StepResult> StepAsync(CancellationToken cancellationToken);

    /// <summary>Writes everything needed to continue exactly where this iteration ended into <paramref name="directory"/>.</summary>
    ValueTask SaveCheckpointAsync(string directory, CancellationToken cancellationToken);

    /// <summary>Continues from a checkpoint written by <see cref="SaveCheckpointAsync"/>.</summary>
    ValueTask RestoreCheckpointAsync(string directory, CancellationToken cancellationToken);
}

/// <summary>What a trial gets to start with.</summary>
/// <param name="TrialId">The trial's short id, unique in its experiment.</param>
/// <param name="Config">The sampled hyperparameters merged with the spec's fixed params.</param>
/// <param name="Seed">A seed derived from the experiment's seed and the trial's index.</param>
/// <param name="Attempt">1 for the first run, higher for retries after failures.</param>
/// <param name="Device">Where to compute: <c>cpu</c>, or <c>cuda:N</c> for the GPU the trial was granted.</param>
/// <param name="Directory">The trial's folder in the run folder (<c>trials/&lt;id&gt;</c>), for files it leaves beside its results; null when it has none.</param>
public sealed record TrialContext(string TrialId, Space.TrialConfig Config, int Seed, int Attempt, string Device = "cpu", string? Directory = null);

/// <summary>
/// One iteration's metrics; <paramref name="Done"/> when the trainable has nothing more to do. The
/// worker copies the metrics, so a trainable may reuse one dictionary from step to step.
/// </summary>
public readonly record struct StepResult(IReadOnlyDictionary<string, double> Metrics, bool Done = false);
