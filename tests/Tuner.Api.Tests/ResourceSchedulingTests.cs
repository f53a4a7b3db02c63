using Tuner.Abstractions.Messages;
using Tuner.Client;
using Tuner.Embedded;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Api.Tests;

/// <summary>The resource scheduler's rules, read from the experiments' own event logs.</summary>
public sealed class ResourceSchedulingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ExperimentSpec Sleepy(string name, int samples, int concurrent, double cpu, double gpu) => new()
    {
        Name = name,
        Trainable = "sleep",
        Metric = "value",
        Samples = samples,
        MaxConcurrent = concurrent,
        Params = new TrialConfig(new Dictionary<string, ParamValue> { ["reports"] = 3, ["seconds"] = 0.05 }),
        Resources = new ResourceSpec { Cpu = cpu, Gpu = gpu },
        Space = new Client.Space.SearchSpaceBuilder().Uniform("x", 0, 1).Build(),
    };

    /// <summary>The most trials RUNNING at once, replaying the status events in order.</summary>
    private static async Task<List<(DateTimeOffset Time, string Experiment, string Trial)>> StartsAsync(ITunerClient client, string id)
    {
        var starts = new List<(DateTimeOffset, string, string)>();
        await foreach (var e in client.WatchAsync(id, 0, Ct))
        {
            if (e is { Kind: ExperimentEventKind.TrialStatus, TrialStatus: TrialStatus.Running })
            {
                starts.Add((e.Time, id, e.TrialId!));
            }
        }

        return starts;
    }

    private static int MostRunning(IEnumerable<ExperimentEvent> events)
    {
        var running = new HashSet<string>(StringComparer.Ordinal);
        var most = 0;
        foreach (var e in events.Where(e => e.Kind == ExperimentEventKind.TrialStatus))
        {
            if (e.TrialStatus == TrialStatus.Running)
            {
                running.Add(e.TrialId!);
            }
            else
            {
                running.Remove(e.TrialId!);
            }

            most = Math.Max(most, running.Count);
        }

        return most;
    }

    [Fact]
    public async Task HalfGpuTrials_ShareADevice_SoAWholeGpuTrialFindsAFreeOne_AndNoDeviceIsOversubscribed()
    {
        var output = Directory.CreateTempSubdirectory("tuner-gpu-").FullName;
        await using var tuner = await EmbeddedTuner.StartAsync(new EmbeddedTunerOptions { CpuSlots = 8, Gpus = 2 }, Ct);
        ITunerClient client = tuner.Client;

        // Two half-GPU trials: counted per device they share GPU 0 (spread one per device, a whole-GPU
        // trial would be granted by the total and then find no free device).
        var halves = Sleepy("halves", samples: 2, concurrent: 2, cpu: 0.5, gpu: 0.5) with
        {
            Params = new TrialConfig(new Dictionary<string, ParamValue> { ["reports"] = 40, ["seconds"] = 0.05 }),
        };
        var a = (await client.SubmitAsync(halves, new SubmitOptions { OutputRoot = output }, Ct)).ExperimentId;
        await Eventually.GetAsync(() => client.GetAsync(a, 20, Ct), s => s.Count(TrialStatus.Running) == 2, what: "both halves running");
        var b = (await client.SubmitAsync(Sleepy("whole", samples: 1, concurrent: 1, cpu: 0.5, gpu: 1), new SubmitOptions { OutputRoot = output }, Ct)).ExperimentId;
        var whole = await client.FollowAsync(b, cancellationToken: Ct);

        Assert.Equal(TrialStatus.Terminated, Assert.Single(whole.Trials).Status);
        Assert.True((await client.GetAsync(a, 20, Ct)).Count(TrialStatus.Running) == 2, "the whole-GPU trial ran beside the two halves");

        // And three halves never run at once on one device's worth: a third experiment of halves with two GPUs busy waits.
        await client.StopAsync(a, cancellationToken: Ct);
        var id = (await client.SubmitAsync(Sleepy("many-halves", samples: 6, concurrent: 6, cpu: 0.5, gpu: 0.5), new SubmitOptions { OutputRoot = output }, Ct)).ExperimentId;
        var events = new List<ExperimentEvent>();
        await foreach (var e in client.WatchAsync(id, 0, Ct))
        {
            events.Add(e);
        }

        Assert.Equal(4, MostRunning(events));
    }

    [Fact]
    public async Task ALaterExperiment_GetsSlotsBeforeAnEarlierOnesBacklogIsDone()
    {
        var output = Directory.CreateTempSubdirectory("tuner-fair-").FullName;
        await using var tuner = await EmbeddedTuner.StartAsync(new EmbeddedTunerOptions { CpuSlots = 2 }, Ct);
        ITunerClient client = tuner.Client;

        // A queues ten trials for two slots; B arrives after them.
        var a = (await client.SubmitAsync(Sleepy("backlog", samples: 12, concurrent: 10, cpu: 1, gpu: 0), new SubmitOptions { OutputRoot = output }, Ct)).ExperimentId;
        var b = (await client.SubmitAsync(Sleepy("newcomer", samples: 2, concurrent: 2, cpu: 1, gpu: 0), new SubmitOptions { OutputRoot = output }, Ct)).ExperimentId;
        var starts = (await StartsAsync(client, a)).Concat(await StartsAsync(client, b)).OrderBy(s => s.Time).ToList();

        // Fair queueing: once both wait, each freed slot goes to the experiment holding fewer; B's first
        // trial starts among the first few, not after A's backlog of ten.
        var firstOfB = starts.FindIndex(s => s.Experiment == b);
        Assert.InRange(firstOfB, 0, 3);
        Assert.Equal(14, starts.Count);
    }
}
