using Tuner.Abstractions.Placement;

namespace Tuner.Integration.Tests;

/// <summary>The resource scheduler's queue: fair between experiments, ordered within one, bounded by what waits and runs.</summary>
public sealed class FairQueueTests
{
    private sealed record Waiting(string Key, string Experiment, int Size = 1);

    private sealed class Slots(int free)
    {
        public int Free { get; set; } = free;

        public Slots? Place(Waiting w) => w.Size <= Free ? this : null;
    }

    private static FairQueue<Waiting> NewQueue() => new(w => w.Key, w => w.Experiment);

    /// <summary>Grants until nothing fits, each taking its size from the slots.</summary>
    private static List<string> Grant(FairQueue<Waiting> queue, Slots slots)
    {
        var granted = new List<string>();
        while (queue.Next<Slots>(slots.Place) is { } pick)
        {
            slots.Free -= pick.Item.Size;
            granted.Add(pick.Item.Key);
        }

        return granted;
    }

    [Fact]
    public void EachFreedSlot_GoesToTheExperimentHoldingFewest_InArrivalOrderWithinIt()
    {
        var queue = NewQueue();
        foreach (var i in Enumerable.Range(1, 4))
        {
            queue.Enqueue(new Waiting($"a{i}", "A"));
        }

        queue.Enqueue(new Waiting("b1", "B"));
        queue.Enqueue(new Waiting("b2", "B"));
        var slots = new Slots(2);

        // Both hold none: the earlier arrival first; then B, holding fewer, before A's backlog.
        Assert.Equal(["a1", "b1"], Grant(queue, slots));
        Assert.Equal((1, 1), (queue.Held("A"), queue.Held("B")));

        // A new slot (a worker joined), tied at one each: A's a2 waited longer than B's b2.
        slots.Free++;
        Assert.Equal(["a2"], Grant(queue, slots));

        // A holds two against B's one: the next slot goes to B's b2 though A's a3 came earlier.
        slots.Free++;
        Assert.Equal(["b2"], Grant(queue, slots));

        // B is done waiting: a slot B frees goes to A.
        queue.Released("B");
        slots.Free++;
        Assert.Equal(["a3"], Grant(queue, slots));
        Assert.Equal((3, 1), (queue.Held("A"), queue.Held("B")));
    }

    [Fact]
    public void ATrialThatFitsNowhere_DoesNotHoldUpSmallerOnesBehindIt()
    {
        var queue = NewQueue();
        queue.Enqueue(new Waiting("big", "A", Size: 4));
        queue.Enqueue(new Waiting("small", "A", Size: 1));
        queue.Enqueue(new Waiting("other", "B", Size: 1));

        Assert.Equal(["small", "other"], Grant(queue, new Slots(3)));
        Assert.Equal(1, queue.Count);
        Assert.True(queue.Contains("big"));
    }

    [Fact]
    public void ATrialPutBackAtTheHead_IsGrantedBeforeEarlierArrivals()
    {
        var queue = NewQueue();
        queue.Enqueue(new Waiting("a1", "A"));
        queue.Enqueue(new Waiting("b1", "B"));
        queue.EnqueueFirst(new Waiting("b0", "B"));

        Assert.Equal(["b0"], Grant(queue, new Slots(1)));
    }

    [Fact]
    public void RemovedTrials_AreNeverGranted_AndAQueuedTrialCannotBeQueuedTwice()
    {
        var queue = NewQueue();
        queue.Enqueue(new Waiting("a1", "A"));
        queue.Enqueue(new Waiting("a2", "A"));

        Assert.True(queue.Remove("a1"));
        Assert.False(queue.Remove("a1"));
        Assert.Throws<InvalidOperationException>(() => queue.Enqueue(new Waiting("a2", "A")));
        Assert.Equal(["a2"], Grant(queue, new Slots(5)));
    }

    [Fact]
    public void FinishedExperiments_AreForgotten_SoMemoryFollowsWhatWaitsAndRuns()
    {
        var queue = NewQueue();
        var slots = new Slots(3);
        for (var e = 0; e < 50; e++)
        {
            foreach (var i in Enumerable.Range(0, 4))
            {
                queue.Enqueue(new Waiting($"{e}/{i}", $"exp{e}"));
            }

            while (queue.Count > 0)
            {
                foreach (var key in Grant(queue, slots))
                {
                    queue.Released($"exp{key.Split('/')[0]}");
                    slots.Free++;
                }
            }

            // Nothing waits and nothing is held: the experiment leaves no entry behind.
            Assert.Equal(0, queue.Experiments);
        }

        // A release nobody holds (twice, or of an unknown experiment) changes nothing.
        queue.Released("exp0");
        queue.Released("never");
        Assert.Equal(0, queue.Experiments);
    }

    [Fact]
    public void ChoosingAGrant_AsksOnlyTheHeadOfEachExperiment_WhenItFits()
    {
        var queue = NewQueue();
        for (var e = 0; e < 20; e++)
        {
            for (var i = 0; i < 500; i++)
            {
                queue.Enqueue(new Waiting($"{e}/{i}", $"exp{e}"));
            }
        }

        var asked = 0;
        var pick = queue.Next<Slots>(w =>
        {
            asked++;
            return new Slots(1);
        });

        Assert.Equal("0/0", pick!.Value.Item.Key);
        Assert.Equal(1, asked);

        // With experiment 0 holding one, the next pick goes to experiment 1's head, asking at most each head once
        // (never walking the 10,000 waiting trials).
        asked = 0;
        pick = queue.Next<Slots>(w =>
        {
            asked++;
            return new Slots(1);
        });
        Assert.Equal("1/0", pick!.Value.Item.Key);
        Assert.InRange(asked, 1, 20);
    }
}
