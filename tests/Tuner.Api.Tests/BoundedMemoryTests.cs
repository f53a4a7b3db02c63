using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;
using Tuner.Core.Experiments;
using Tuner.Core.Results;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Telemetry;
using Tuner.Embedded;
using Tuner.Scheduler.Grains.Experiments;

namespace Tuner.Api.Tests;

/// <summary>What an experiment keeps in memory is bounded by what is running, not by what has finished.</summary>
public sealed class BoundedMemoryTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"tuner-memory-{Guid.NewGuid():N}");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task FinishedTrials_LeaveTheirGrainsAndGauges_AndAreStillAnsweredFor()
    {
        await using var tuner = await EmbeddedTuner.StartAsync(new EmbeddedTunerOptions { CpuSlots = 2 }, Ct);
        var spec = new ExperimentSpec
        {
            Name = "memory",
            Trainable = "noop",
            Metric = "value",
            Samples = 300,
            MaxConcurrent = 2,
            Params = new([new("reports", 3)]),
            Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
        };

        var done = await tuner.Client.RunAsync(spec, _root, cancellationToken: Ct);
        Assert.Equal(300, done.Count(TrialStatus.Terminated));

        // Every trial grain deactivates once its trial has ended (polled: deactivation follows the last call).
        var management = tuner.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        int active;
#pragma warning disable xUnit1051 // The management grain's call has no token of its own to take; the wait is bounded by the deadline.
        while ((active = (await management.GetSimpleGrainStatistics()).Where(s => s.GrainType.Contains("TrialGrain", StringComparison.Ordinal)).Sum(s => s.ActivationCount)) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{active} trial grains still active 30 s after the experiment ended");
            await Task.Delay(50, Ct);
        }
#pragma warning restore xUnit1051

        // The per-trial gauges hold no ended trial; the best is kept.
        var gauges = TunerTelemetry.GaugesOf(done.ExperimentId)!;
        Assert.Equal(0, gauges.TrialsHeld);
        Assert.NotNull(gauges.Best);

        // An ended trial is still answered for, from the experiment's record.
        var trial = await tuner.Client.GetTrialAsync(done.ExperimentId, "t00007", Ct);
        Assert.Equal(TrialStatus.Terminated, trial.Status);
        Assert.Equal(3, trial.LastIteration);

        // A watcher from the start still gets every event.
        var events = new List<ExperimentEvent>();
        await foreach (var e in tuner.Client.WatchAsync(done.ExperimentId, 0, Ct))
        {
            events.Add(e);
        }

        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Position));
        Assert.Equal(900, events.Count(e => e.Kind == ExperimentEventKind.Result));
    }

    [Fact]
    public void TheWatchersLog_HoldsTheNewestEvents_AndReadsOlderOnesBackFromTheJournal()
    {
        Directory.CreateDirectory(_root);
        var path = Path.Combine(_root, ExperimentJournal.FileName);
        var log = new ExperimentEventLog { JournalPath = path };
        const int count = ExperimentEventLog.Capacity * 2 + 123;
        using (var journal = new JournalWriter(path))
        {
            ExperimentJournal.WriteStart(journal, "exp-1", new ExperimentSpec { Name = "x", Trainable = "noop", Metric = "value" }, DateTimeOffset.UnixEpoch);
            for (var position = 1L; position <= count; position++)
            {
                var e = new ExperimentEvent(position, DateTimeOffset.UnixEpoch.AddSeconds(position), ExperimentEventKind.Result, "t00001", Result: new TrialResult(position, position, position, new Dictionary<string, double> { ["value"] = position }));
                log.Indexed(position, journal.Length);
                ExperimentJournal.WriteEvent(journal, e);
                log.Hold(e);
            }
        }

        // Memory holds no more than its capacity, whatever the experiment's length.
        Assert.InRange(log.Held, 1, ExperimentEventLog.Capacity);
        Assert.True(log.FirstHeld > 1);

        // From the start: read back from the journal, in order, the same events.
        var first = log.Read(0, 500, count, ended: true);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), first.Events.Select(e => e.Position));
        Assert.Equal(42, first.Events[41].Result!.Metrics["value"]);
        Assert.Equal(1, first.FirstHeld);

        // From the middle of the journal (through its index), and up to where memory begins.
        var middle = log.Read(5_000, 10_000, count, ended: true);
        Assert.Equal(5_001, middle.Events[0].Position);
        Assert.True(middle.Events[^1].Position < log.FirstHeld);

        // From memory, to the end.
        var last = log.Read(count - 10, 100, count, ended: true);
        Assert.Equal(Enumerable.Range(count - 9, 10).Select(i => (long)i), last.Events.Select(e => e.Position));
        Assert.True(last.Ended);
    }
}
