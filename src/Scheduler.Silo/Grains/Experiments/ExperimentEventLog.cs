using System.Text.Json;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Results;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>
/// What happened in an experiment, in order, for watchers (<see cref="Tuner.Abstractions.Grains.IExperimentGrain.ReadEventsAsync"/>):
/// the newest events in memory (at most <see cref="Capacity"/>; the oldest go when more come), older ones read back from
/// the journal, which holds every event, found through an index of where every <see cref="IndexEvery"/>th one starts; and
/// a signal for readers that wait for the next. Memory stays the same however many events the experiment has had.
/// </summary>
internal sealed class ExperimentEventLog
{
    /// <summary>How many events are held in memory at most; a quarter of them go at once when it is reached.</summary>
    public const int Capacity = 20_000;

    /// <summary>One event in this many has its journal offset indexed.</summary>
    public const int IndexEvery = 1_024;

    private readonly List<ExperimentEvent> _events = [];
    private readonly List<(long Position, long Offset)> _index = [];
    private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The oldest position still held in memory.</summary>
    public long FirstHeld { get; private set; } = 1;

    /// <summary>The journal every event is in (older ones are read back from it); null before there is one.</summary>
    public string? JournalPath { get; set; }

    /// <summary>Completes when the next event is held.</summary>
    public Task Added => _added.Task;

    /// <summary>Events held in memory now.</summary>
    public int Held => _events.Count;

    /// <summary>The event at <paramref name="position"/> starts at <paramref name="offset"/> in the journal.</summary>
    public void Indexed(long position, long offset)
    {
        if (position % IndexEvery == 0 && (_index.Count == 0 || _index[^1].Position < position))
        {
            _index.Add((position, offset));
        }
    }

    public void Hold(ExperimentEvent e)
    {
        if (_events.Count == 0)
        {
            FirstHeld = e.Position;
        }

        _events.Add(e);
        if (_events.Count > Capacity)
        {
            var drop = _events.Count - (Capacity * 3 / 4);
            _events.RemoveRange(0, drop);
            FirstHeld = _events[0].Position;
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
        max = Math.Clamp(max, 1, 10_000);
        List<ExperimentEvent> events;
        if (after + 1 < FirstHeld && JournalPath is { } journal && File.Exists(journal))
        {
            // Older than memory holds: from the journal, up to what memory begins with.
            events = ReadJournal(journal, after, max, Math.Min(last, FirstHeld - 1));
        }
        else
        {
            var start = (int)Math.Clamp(after + 1 - FirstHeld, 0, _events.Count);
            var available = (int)Math.Clamp(last + 1 - FirstHeld - start, 0, _events.Count - start);
            events = _events.GetRange(start, Math.Min(max, available));
        }

        var done = ended && (events.Count == 0 ? after >= last : events[^1].Position == last);
        return new EventPage(events, done, JournalPath is null ? FirstHeld : 1, last);
    }

    /// <summary>The journal's events after <paramref name="after"/> up to <paramref name="last"/>, from the nearest indexed offset before them.</summary>
    private List<ExperimentEvent> ReadJournal(string path, long after, int max, long last)
    {
        var offset = 0L;
        foreach (var (position, at) in _index)
        {
            if (position > after)
            {
                break;
            }

            offset = at;
        }

        var events = new List<ExperimentEvent>();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        while (events.Count < max && reader.ReadLine() is { } line)
        {
            if (!line.StartsWith("{\"event\":\"experiment\"", StringComparison.Ordinal))
            {
                continue;
            }

            JsonElement root;
            try
            {
                using var doc = JsonDocument.Parse(line);
                root = doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                // A line still being written.
                break;
            }

            var position = root.GetProperty("position").GetInt64();
            if (position > last)
            {
                break;
            }

            if (position > after)
            {
                events.Add(ExperimentJournal.ReadEvent(root));
            }
        }

        return events;
    }
}
