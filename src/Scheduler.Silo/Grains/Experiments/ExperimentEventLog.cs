using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>
/// What happened in an experiment, in order, for watchers (<see cref="Tuner.Abstractions.Grains.IExperimentGrain.ReadEventsAsync"/>):
/// the newest events in memory (the oldest go when too many are held), and a signal for readers that wait for the next.
/// </summary>
internal sealed class ExperimentEventLog
{
    /// <summary>How many events are held at most; a quarter of them go at once when it is reached.</summary>
    public const int Capacity = 200_000;

    private readonly List<ExperimentEvent> _events = [];
    private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The oldest position still held.</summary>
    public long FirstHeld { get; private set; } = 1;

    /// <summary>Completes when the next event is held.</summary>
    public Task Added => _added.Task;

    public void Hold(ExperimentEvent e)
    {
        _events.Add(e);
        if (_events.Count > Capacity)
        {
            var drop = _events.Count - (Capacity * 3 / 4);
            _events.RemoveRange(0, drop);
            FirstHeld += drop;
        }

        var added = _added;
        _added = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        added.TrySetResult();
    }

    /// <summary>
    /// Up to <paramref name="max"/> events after <paramref name="after"/>, none past <paramref name="last"/> (what the journal
    /// has on disk). <paramref name="ended"/>: the experiment has ended, so a page reaching <paramref name="last"/> is the end.
    /// </summary>
    public EventPage Read(long after, int max, long last, bool ended)
    {
        var start = (int)Math.Clamp(after + 1 - FirstHeld, 0, _events.Count);
        var available = (int)Math.Clamp(last + 1 - FirstHeld - start, 0, _events.Count - start);
        var events = _events.GetRange(start, Math.Min(Math.Clamp(max, 1, 10_000), available));
        var done = ended && (events.Count == 0 ? after >= last : events[^1].Position == last);
        return new EventPage(events, done, FirstHeld, last);
    }
}
