using System.Diagnostics;
using System.Globalization;
using Tuner.Client;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Tests;

namespace Tuner.Bench;

/// <summary>
/// Ray Tune's scalability workloads (REFERENCE.md) with the sleep trainable on this machine, across a
/// redis-server, one scheduler silo and two worker processes: actual wall time against the ideal.
/// </summary>
public static class ClusterBenchmark
{
    /// <summary>Bookkeeping: many short trials on many slots (Ray's docs: 10,000 x 1 s on 1,000 slots, 14% over).</summary>
    public static Task<int> BookkeepingAsync(int trials, double seconds, int slots) =>
        RunAsync($"bookkeeping: {trials} trials of {seconds} s on {slots} slots", trials, reports: 1, period: seconds, slots, ideal: Math.Ceiling(trials / (double)slots) * seconds);

    /// <summary>Result throughput: many trials reporting fast (Ray: 1,000 trials x 50 results/s ... 20% allowed).</summary>
    public static Task<int> ThroughputAsync(int trials, int rate, double duration) =>
        RunAsync($"throughput: {trials} trials reporting {rate} results/s for {duration} s", trials, reports: (int)(rate * duration), period: 1.0 / rate, slots: trials, ideal: duration);

    /// <summary>Adding workers: the same trials on one worker, then on two, each with the same slots.</summary>
    public static async Task<int> ScaleOutAsync(int trials, int slotsPerWorker)
    {
        var times = new List<double>();
        foreach (var workers in new[] { 1, 2 })
        {
            var slots = workers * slotsPerWorker;
            var (code, actual) = await MeasureAsync($"scale-out: {trials} trials of 1 s", trials, 1, 1.0, slots, Math.Ceiling(trials / (double)slots), workers);
            if (code != 0)
            {
                return code;
            }

            times.Add(actual);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"speed-up from a second worker: {times[0] / times[1]:F2}x ({times[0]:F1} s -> {times[1]:F1} s; ideal 2x)"));
        return 0;
    }

    private static async Task<int> RunAsync(string title, int trials, int reports, double period, int slots, double ideal) =>
        (await MeasureAsync(title, trials, reports, period, slots, ideal, workers: 2)).Code;

    private static async Task<(int Code, double Actual)> MeasureAsync(string title, int trials, int reports, double period, int slots, double ideal, int workers)
    {
        Console.WriteLine($"{title}: starting redis-server, a scheduler and {workers} worker(s) ({slots / (double)workers} slots each)");
        await using var cluster = await LocalCluster.StartAsync(workers: workers, cpusPerWorker: slots / (double)workers, workerLease: TimeSpan.FromSeconds(60));
        using var client = cluster.Client();
        var spec = new ExperimentSpec
        {
            Name = "scalability",
            Trainable = "sleep",
            Metric = "value",
            Samples = trials,
            MaxConcurrent = slots,
            Params = new TrialConfig(new Dictionary<string, ParamValue> { ["reports"] = reports, ["seconds"] = period }),
            Resources = new ResourceSpec { Cpu = 1 },
            Space = new Client.Space.SearchSpaceBuilder().Uniform("x", 0, 1).Build(),
        };

        // The cluster is up and warm before the clock starts, as Ray's benchmarks start after ray.init():
        // a short experiment (2 trials, 3 reports) brings the client's connection and every code path in.
        await EndedAsync(client, (await client.SubmitAsync(spec with { Name = "warm-up", Samples = 2, Params = new TrialConfig(new Dictionary<string, ParamValue> { ["reports"] = 3, ["seconds"] = 0.01 }) })).ExperimentId);

        var clock = Stopwatch.StartNew();
        var final = await EndedAsync(client, (await client.SubmitAsync(spec)).ExperimentId);
        var actual = clock.Elapsed.TotalSeconds;
        var results = final.ResultsReported;
        var ratio = actual / ideal;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {final.Status.ToWire()}: {final.Count(TrialStatus.Terminated)} trials TERMINATED, {results:N0} results ({results / actual:N0}/s)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  actual {actual:F1} s, ideal {ideal:F1} s: actual/ideal {ratio:F3} ({(ratio - 1) * 100:F1}% over; target at most 5%)"));
        return (final.Status == ExperimentStatus.Completed ? 0 : 1, actual);
    }

    /// <summary>Follows the experiment as Ray's driver is watched: its status, not a copy of every result (the tuner itself handles each one).</summary>
    internal static async Task<Abstractions.Messages.ExperimentSnapshot> EndedAsync(TunerClient client, string id)
    {
        var snapshot = await client.GetAsync(id, maxTrials: 0);
        while (snapshot.Status == ExperimentStatus.Running)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100));
            snapshot = await client.GetAsync(id, maxTrials: 0);
        }

        return snapshot;
    }
}
