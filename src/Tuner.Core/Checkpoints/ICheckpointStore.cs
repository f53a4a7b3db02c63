using Tuner.Core.Trainables;

namespace Tuner.Core.Checkpoints;

/// <summary>
/// Where trials' checkpoints live, reachable from every worker and the scheduler. One root per
/// trial; one checkpoint per iteration it ends. The contract that keeps a checkpoint trustworthy:
/// <see cref="SaveAsync"/> returns only once the checkpoint is complete; the caller then records it
/// (with the trial grain), and only after that does <see cref="Prune"/> delete older ones.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Saves <paramref name="trainable"/> as the checkpoint of <paramref name="iteration"/>; returns where it is, complete.</summary>
    Task<string> SaveAsync(ITrainable trainable, string trialRoot, long iteration, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the trial's checkpoints older than the recorded <paramref name="committed"/> one, keeping
    /// the newest <paramref name="keep"/> counting it. Newer ones (written, not yet recorded) stay.
    /// </summary>
    void Prune(string trialRoot, string committed, int keep);

    /// <summary>The trial's newest complete checkpoint at or before iteration <paramref name="atMost"/>, or null.</summary>
    StoredCheckpoint? Latest(string trialRoot, long atMost);
}

/// <summary>A complete checkpoint: where it is and the iteration it ends.</summary>
public sealed record StoredCheckpoint(string Path, long Iteration);
