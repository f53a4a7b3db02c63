namespace Tuner.Abstractions.Placement;

/// <summary>
/// Trials waiting for slots, one queue per experiment, granted fairly between experiments: the next
/// grant goes to the experiment holding the fewest grants (ties to the one whose waiting trial came
/// first), in arrival order within it. A trial that fits nowhere now waits without holding up the
/// ones behind it. Choosing a grant costs one pass over the experiments, not over every waiting trial,
/// and an experiment with nothing waiting and nothing held is forgotten.
/// </summary>
/// <typeparam name="T">A waiting trial.</typeparam>
public sealed class FairQueue<T>(Func<T, string> key, Func<T, string> group)
{
    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LinkedListNode<Entry>> _waiting = new(StringComparer.Ordinal);
    private long _head;
    private long _tail;

    /// <summary>Trials waiting, over all experiments.</summary>
    public int Count => _waiting.Count;

    /// <summary>Experiments with a trial waiting or a grant held (what this queue remembers).</summary>
    public int Experiments => _groups.Count;

    public bool Contains(string trialKey) => _waiting.ContainsKey(trialKey);

    /// <summary>How many grants an experiment holds.</summary>
    public int Held(string experiment) => _groups.TryGetValue(experiment, out var g) ? g.Held : 0;

    /// <summary>Queues a trial behind every other.</summary>
    public void Enqueue(T item) => Add(item, ++_tail, atHead: false);

    /// <summary>Queues a trial ahead of every other (one whose grant was lost before it started).</summary>
    public void EnqueueFirst(T item) => Add(item, --_head, atHead: true);

    /// <summary>Takes a waiting trial out of the queue; false when it was not waiting.</summary>
    public bool Remove(string trialKey)
    {
        if (!_waiting.Remove(trialKey, out var node))
        {
            return false;
        }

        var g = node.Value.Group;
        g.Waiting.Remove(node);
        ForgetIfIdle(g);
        return true;
    }

    /// <summary>A grant of this experiment ended (released, lost, or never started).</summary>
    public void Released(string experiment)
    {
        if (_groups.TryGetValue(experiment, out var g) && g.Held > 0)
        {
            g.Held--;
            ForgetIfIdle(g);
        }
    }

    /// <summary>
    /// Picks the next trial to grant, with where it goes, takes it out of the queue and counts the grant
    /// to its experiment; null when no waiting trial fits anywhere. <paramref name="place"/> answers
    /// where a trial would go now, or null.
    /// </summary>
    public (T Item, TTarget Target)? Next<TTarget>(Func<T, TTarget?> place)
        where TTarget : class
    {
        LinkedListNode<Entry>? best = null;
        TTarget? target = null;
        foreach (var g in _groups.Values)
        {
            if (g.Waiting.First is not { } first || (best is not null && !Before(g.Held, first.Value.Seq, best.Value)))
            {
                continue;
            }

            for (var node = first; node is not null; node = node.Next)
            {
                if (best is not null && !Before(g.Held, node.Value.Seq, best.Value))
                {
                    break;
                }

                if (place(node.Value.Item) is { } found)
                {
                    (best, target) = (node, found);
                    break;
                }
            }
        }

        if (best is null)
        {
            return null;
        }

        var chosen = best.Value;
        _waiting.Remove(key(chosen.Item));
        chosen.Group.Waiting.Remove(best);
        chosen.Group.Held++;
        return (chosen.Item, target!);
    }

    private static bool Before(int held, long seq, Entry best) =>
        held < best.Group.Held || (held == best.Group.Held && seq < best.Seq);

    private void Add(T item, long seq, bool atHead)
    {
        var trialKey = key(item);
        if (_waiting.ContainsKey(trialKey))
        {
            throw new InvalidOperationException($"trial {trialKey} is already queued");
        }

        var id = group(item);
        if (!_groups.TryGetValue(id, out var g))
        {
            _groups[id] = g = new Group(id);
        }

        var entry = new Entry(item, seq, g);
        _waiting[trialKey] = atHead ? g.Waiting.AddFirst(entry) : g.Waiting.AddLast(entry);
    }

    private void ForgetIfIdle(Group g)
    {
        if (g.Waiting.Count == 0 && g.Held == 0)
        {
            _groups.Remove(g.Id);
        }
    }

    private sealed class Group(string id)
    {
        public string Id { get; } = id;

        public LinkedList<Entry> Waiting { get; } = new();

        public int Held { get; set; }
    }

    private sealed record Entry(T Item, long Seq, Group Group);
}
