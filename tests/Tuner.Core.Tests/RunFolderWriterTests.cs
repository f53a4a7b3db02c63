using System.Text.Json;
using Tuner.Core.Experiments;
using Tuner.Core.Results;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class RunFolderWriterTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"tuner-writer-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static TrialResult Result(long iteration, double value, string? extra = null) =>
        new(iteration, iteration * 0.5, 1_700_000_000 + iteration, extra is null ? new Dictionary<string, double> { ["value"] = value } : new Dictionary<string, double> { ["value"] = value, [extra] = 1 });

    [Fact]
    public async Task WritesRayLikeTrialFiles()
    {
        var writer = RunFolderWriter.Create(_root, "exp");
        writer.TrialCreated("t00001", new TrialConfig([new("x1", 1.5), new("act", "relu")]));
        writer.Append("t00001", Result(1, 3.0));
        writer.Append("t00001", Result(2, double.NaN, extra: "lr"));
        writer.TrialEnded("t00001", error: null);
        await writer.DisposeAsync();

        var trial = Path.Combine(_root, "exp", "trials", "t00001");
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(trial, "params.json")));
        Assert.Equal(1.5, config.RootElement.GetProperty("x1").GetDouble());
        Assert.Equal("relu", config.RootElement.GetProperty("act").GetString());

        var lines = File.ReadAllLines(Path.Combine(trial, "result.jsonl"));
        Assert.Equal(2, lines.Length);
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal(2, second.RootElement.GetProperty("training_iteration").GetInt64());
        Assert.Equal("NaN", second.RootElement.GetProperty("value").GetString());
        Assert.Equal("t00001", second.RootElement.GetProperty("trial_id").GetString());

        var csv = File.ReadAllLines(Path.Combine(trial, "progress.csv"));
        Assert.Equal("training_iteration,time_total_s,timestamp,trial_id,value,lr", csv[0]);
        Assert.Equal(3, csv.Length);
        Assert.StartsWith("1,0.5,", csv[1], StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_root, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task WritesExperimentJson()
    {
        var spec = SpecParser.Parse("name: exp\ntrainable: noop\nmetric: value\nspace: { x: { uniform: [0, 1] } }");
        var writer = RunFolderWriter.Create(_root, "exp");
        var config = new TrialConfig([new("x", 0.25)]);
        writer.UpdateExperiment(new ExperimentDocument(
            "exp-1",
            spec,
            ExperimentStatus.Completed,
            null,
            DateTimeOffset.UnixEpoch,
            DateTimeOffset.UnixEpoch.AddSeconds(3),
            new Dictionary<TrialStatus, int> { [TrialStatus.Terminated] = 1 },
            new BestTrial("t00001", config, Result(4, 0.125)),
            [new TrialSummary("t00001", TrialStatus.Terminated, config, 4, 0, 0.125, null)]));
        await writer.DisposeAsync();

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_root, "exp", "experiment.json")));
        var root = doc.RootElement;
        Assert.Equal("exp", root.GetProperty("name").GetString());
        Assert.Equal("completed", root.GetProperty("status").GetString());
        Assert.Equal(1, root.GetProperty("state_counts").GetProperty("TERMINATED").GetInt32());
        Assert.Equal(0, root.GetProperty("state_counts").GetProperty("ERROR").GetInt32());
        Assert.Equal("t00001", root.GetProperty("best").GetProperty("trial_id").GetString());
        Assert.Equal(0.25, root.GetProperty("best").GetProperty("config").GetProperty("x").GetDouble());
        Assert.Equal(0.125, root.GetProperty("best").GetProperty("metrics").GetProperty("value").GetDouble());
        Assert.Equal(4, root.GetProperty("best").GetProperty("metrics").GetProperty("training_iteration").GetInt64());
        Assert.Equal("uniform", root.GetProperty("spec").GetProperty("space").GetProperty("x").EnumerateObject().Single().Name);
    }

    [Fact]
    public async Task NeverOverwritesAnEarlierRun()
    {
        var first = RunFolderWriter.Create(_root, "exp");
        first.TrialCreated("t00001", TrialConfig.Empty);
        await first.DisposeAsync();

        var second = RunFolderWriter.Create(_root, "exp");
        await second.DisposeAsync();

        Assert.Equal(Path.Combine(_root, "exp-2"), second.Directory);
        Assert.True(File.Exists(Path.Combine(_root, "exp", "trials", "t00001", "params.json")));
    }

    [Fact]
    public async Task KeepsEarlierResultsWhenATrialReportsAfterItsBufferWasDropped()
    {
        var writer = RunFolderWriter.Create(_root, "exp");
        writer.TrialCreated("t00001", TrialConfig.Empty);
        writer.Append("t00001", Result(1, 1));
        writer.TrialEnded("t00001", null);
        writer.Flush();
        writer.Append("t00001", Result(2, 2));
        await writer.DisposeAsync();

        var lines = File.ReadAllLines(Path.Combine(_root, "exp", "trials", "t00001", "result.jsonl"));
        Assert.Equal(2, lines.Length);
    }

    [Fact]
    public async Task AFailedWrite_IsRetried_AndALastingFailureIsReported()
    {
        // Only this test's own flushes write: a background flush racing its deletes below would fail them ("Directory not empty").
        var writer = RunFolderWriter.Create(_root, "exp", flushInterval: TimeSpan.FromDays(1));
        writer.TrialCreated("t00001", TrialConfig.Empty);
        writer.TrialCreated("t00002", TrialConfig.Empty);
        writer.Append("t00002", Result(1, 1));
        var blocked = Path.Combine(_root, "exp", "trials", "t00001");
        File.WriteAllText(blocked, "a file where the trial's folder should be");

        Assert.ThrowsAny<IOException>(() => writer.Flush());
        File.Delete(blocked);
        writer.Flush();
        Assert.True(File.Exists(Path.Combine(blocked, "params.json")));
        Assert.Single(File.ReadAllLines(Path.Combine(_root, "exp", "trials", "t00002", "result.jsonl")));

        writer.Append("t00002", Result(2, 2));
        Directory.Delete(Path.Combine(_root, "exp", "trials", "t00002"), recursive: true);
        File.WriteAllText(Path.Combine(_root, "exp", "trials", "t00002"), "blocked again");
        var ex = await Assert.ThrowsAsync<IOException>(async () => await writer.DisposeAsync());
        Assert.Contains("could not write results", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WritesTheErrorOfAFailedTrial()
    {
        var writer = RunFolderWriter.Create(_root, "exp");
        writer.TrialCreated("t00001", TrialConfig.Empty);
        writer.TrialEnded("t00001", "InvalidOperationException: boom");
        await writer.DisposeAsync();

        Assert.Equal("InvalidOperationException: boom", File.ReadAllText(Path.Combine(_root, "exp", "trials", "t00001", "error.txt")).Trim());
    }
}
