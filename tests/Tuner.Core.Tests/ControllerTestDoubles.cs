using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Results;

namespace Tuner.Core.Tests;

/// <summary>Writes the journal as the grain's outputs do, and keeps every event.</summary>
internal sealed class JournalListener(TextWriter journal) : IExperimentListener
{
    public List<ExperimentEvent> Events { get; } = [];

    public List<ExperimentEvent> Replayed { get; } = [];

    public void OnEvent(ExperimentEvent e, TrialRecord? trial, bool replayed)
    {
        if (replayed)
        {
            Replayed.Add(e);
            return;
        }

        Events.Add(e);
        ExperimentJournal.WriteEvent(journal, e);
    }

    public void OnAttempt(string trialId, int attempt, int failures) => ExperimentJournal.WriteAttempt(journal, trialId, attempt, failures);

    public void OnInterrupted(IReadOnlyCollection<string> trials, IReadOnlyCollection<string> paused) => ExperimentJournal.WriteInterrupted(journal, trials, paused);
}

/// <summary>A clock that moves a second per reading: events get distinct, ordered times without waiting.</summary>
internal sealed class StepClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now = _now.AddSeconds(1);
}
