namespace Tuner.Core.Experiments.Control;

/// <summary>
/// Hears every change the controller makes, in order, to carry it to the journal, the run folder,
/// the result sinks, telemetry and the watchers. Called synchronously, before the next change.
/// </summary>
public interface IExperimentListener
{
    /// <summary>
    /// An event, about to be applied to the trial table: <paramref name="trial"/> is its trial as it was
    /// before (null for a trial's creation and the experiment's own events). <paramref name="replayed"/>: it
    /// comes from the journal during a restore (journaled and sent to the sinks already), not from now.
    /// </summary>
    void OnEvent(ExperimentEvent e, TrialRecord? trial, bool replayed);

    /// <summary>Run <paramref name="attempt"/> of a trial was started or queued, after <paramref name="failures"/> failed runs (a journal line).</summary>
    void OnAttempt(string trialId, int attempt, int failures);

    /// <summary>The user's stop interrupted these trials (the scheduler had paused <paramref name="paused"/> among them); a resume continues them.</summary>
    void OnInterrupted(IReadOnlyCollection<string> trials, IReadOnlyCollection<string> paused);
}
