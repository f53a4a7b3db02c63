using System.Text.Json;
using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
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
    public async Task WritesEveryResultAsARowOfTheRun_AndNoFilePerTrial()
    {
        var writer = RunFolderWriter.Create(_root, "exp");
        writer.Append("t00001", Result(1, 3.0));
        writer.Append("t00002", Result(1, 4.0));
        writer.Flush();
        writer.Append("t00001", Result(2, double.NaN, extra: "lr"));
        await writer.DisposeAsync();

        var folder = Path.Combine(_root, "exp");
        var lines = File.ReadAllLines(Path.Combine(folder, RunFolderWriter.ResultsFileName));
        Assert.Equal(3, lines.Length);
        using var third = JsonDocument.Parse(lines[2]);
        Assert.Equal(2, third.RootElement.GetProperty("training_iteration").GetInt64());
        Assert.Equal("NaN", third.RootElement.GetProperty("value").GetString());
        Assert.Equal("t00001", third.RootElement.GetProperty("trial_id").GetString());
        Assert.Equal([1L, 2L], RunFolderWriter.ReadResults(folder, "t00001").Select(r => r.TrainingIteration));

        // A metric seen for the first time rewrites the CSV with its column; earlier rows get it empty.
        var csv = File.ReadAllLines(Path.Combine(folder, RunFolderWriter.ProgressFileName));
        Assert.Equal("trial_id,training_iteration,time_total_s,timestamp,value,lr", csv[0]);
        Assert.Equal(4, csv.Length);
        Assert.Equal("t00001,1,0.5,1700000001,3,", csv[1]);
        Assert.StartsWith("t00001,2,1,1700000002,NaN,1", csv[3], StringComparison.Ordinal);

        // Nothing per trial: the trials folder stays empty until a trial has files of its own (checkpoints, TensorBoard).
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(folder, "trials")));
        Assert.Empty(Directory.GetFiles(_root, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ASnapshot_IsWrittenOnceItsRowsAre_WithTheirLength_AndAReopenKeepsJustThose()
    {
        var writer = RunFolderWriter.Create(_root, "exp", flushInterval: TimeSpan.FromDays(1));
        writer.Append("t00001", Result(1, 1));
        writer.Append("t00001", Result(2, 2));
        RowsMark? mark = null;
        writer.QueueSnapshot(writer.RowsAppended, m => mark = m);
        writer.Append("t00002", Result(1, 3, extra: "lr"));
        Assert.Null(mark);
        writer.Flush();
        var folder = writer.Directory;
        await writer.DisposeAsync();

        var all = File.ReadAllBytes(Path.Combine(folder, RunFolderWriter.ResultsFileName));
        var firstTwo = File.ReadAllLines(Path.Combine(folder, RunFolderWriter.ResultsFileName)).Take(2).Sum(l => l.Length + 1);
        Assert.Equal(firstTwo, mark!.Value.ResultsBytes);
        Assert.True(all.Length > firstTwo);

        // The column added in the same flush rewrote progress.csv: where its rows stood is not known.
        Assert.Null(mark.Value.ProgressBytes);

        // Restored from that snapshot: the rows after it go (the journal's tail records them again), the CSV is made again.
        var reopened = RunFolderWriter.Open(folder, keep: mark);
        await reopened.DisposeAsync();
        Assert.Equal(2, File.ReadAllLines(Path.Combine(folder, RunFolderWriter.ResultsFileName)).Length);
        Assert.Equal(["trial_id,training_iteration,time_total_s,timestamp,value", "t00001,1,0.5,1700000001,1", "t00001,2,1,1700000002,2"], File.ReadAllLines(Path.Combine(folder, RunFolderWriter.ProgressFileName)));

        // Without a snapshot every row goes: a full replay records them all again.
        await RunFolderWriter.Open(folder).DisposeAsync();
        Assert.Empty(File.ReadAllLines(Path.Combine(folder, RunFolderWriter.ResultsFileName)));
    }

    [Fact]
    public async Task RowsAfterASnapshotOfRowsAlreadyWritten_AreWrittenToo()
    {
        // The snapshot covers exactly what an earlier flush wrote; the rows recorded after it must still land.
        var writer = RunFolderWriter.Create(_root, "exp", flushInterval: TimeSpan.FromDays(1));
        writer.Append("t00001", Result(1, 1));
        writer.Flush();
        RowsMark? mark = null;
        writer.QueueSnapshot(writer.RowsAppended, m => mark = m);
        writer.Append("t00002", Result(1, 2));
        writer.Append("t00002", Result(2, 3));
        writer.Flush();
        var folder = writer.Directory;
        await writer.DisposeAsync();

        var lines = File.ReadAllLines(Path.Combine(folder, RunFolderWriter.ResultsFileName));
        Assert.Equal(3, lines.Length);
        Assert.Equal(lines[0].Length + 1, mark!.Value.ResultsBytes);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(folder, RunFolderWriter.ProgressFileName)).Length);
    }

    [Fact]
    public async Task AReopenAtASnapshotThatKnowsProgressCsv_CutsItThere_AndAppendsWithItsColumns()
    {
        var writer = RunFolderWriter.Create(_root, "exp", flushInterval: TimeSpan.FromDays(1));
        writer.Append("t00001", Result(1, 1, extra: "lr"));
        writer.Flush();
        writer.Append("t00001", Result(2, 2, extra: "lr"));
        RowsMark? mark = null;
        writer.QueueSnapshot(writer.RowsAppended, m => mark = m);
        writer.Append("t00002", Result(1, 3, extra: "lr"));
        writer.Flush();
        var folder = writer.Directory;
        await writer.DisposeAsync();
        var csv = Path.Combine(folder, RunFolderWriter.ProgressFileName);
        var before = File.ReadAllLines(csv);
        Assert.Equal(before.Take(3).Sum(l => l.Length + 1), mark!.Value.ProgressBytes);
        Assert.Equal(2, mark.Value.ProgressColumns);

        // Cut at the snapshot (without reading results.jsonl), then a row appended in the same columns.
        var reopened = RunFolderWriter.Open(folder, keep: mark);
        reopened.Append("t00002", Result(1, 5, extra: "lr"));
        await reopened.DisposeAsync();
        Assert.Equal([.. before.Take(3), "t00002,1,0.5,1700000001,5,1"], File.ReadAllLines(csv));

        // A column added after the snapshot rewrote the file: the mark no longer fits it, and the CSV is made again from the
        // rows the snapshot covers (the column goes with the row that brought it).
        var widened = RunFolderWriter.Open(folder, keep: mark);
        widened.Append("t00003", Result(1, 6, extra: "momentum"));
        await widened.DisposeAsync();
        Assert.Equal("trial_id,training_iteration,time_total_s,timestamp,value,lr,momentum", File.ReadAllLines(csv)[0]);
        Assert.Equal(4, File.ReadAllLines(csv).Length);
        var again = RunFolderWriter.Open(folder, keep: mark);
        await again.DisposeAsync();
        Assert.Equal(before.Take(3), File.ReadAllLines(csv));
    }

    [Fact]
    public async Task WritesExperimentJson()
    {
        var spec = SpecParser.Parse("name: exp\ntrainable: noop\nmetric: value\nspace: { x: { uniform: [0, 1] } }");
        var writer = RunFolderWriter.Create(_root, "exp");
        var config = new TrialConfig([new("x", 0.25)]);
        var table = new TrialTable(new MemoryTrialArchive(), "value");
        var ended = new TrialRecord("t00001", config, 1) { Status = TrialStatus.Terminated, Iteration = 4, LastResult = Result(4, 0.125), LastMetric = 0.125 };
        table.Add(ended);
        table.Settle(ended);
        table.Add(new TrialRecord("t00002", new TrialConfig([new("x", 0.5)]), 2) { Status = TrialStatus.Running, Iteration = 1 });
        writer.UpdateExperiment(new ExperimentDocument(
            "exp-1",
            spec,
            ExperimentStatus.Completed,
            null,
            DateTimeOffset.UnixEpoch,
            DateTimeOffset.UnixEpoch.AddSeconds(3),
            new Dictionary<TrialStatus, int> { [TrialStatus.Terminated] = 1 },
            new BestTrial("t00001", config, Result(4, 0.125)),
            table.Capture(withCurves: false)));
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

        // Every trial, in the order created: the ended one copied from the archive, the open one as it is.
        var trials = root.GetProperty("trials").EnumerateArray().ToList();
        Assert.Equal(["t00001", "t00002"], trials.Select(t => t.GetProperty("trial_id").GetString()));
        Assert.Equal(("TERMINATED", 4L, 0.125), (trials[0].GetProperty("status").GetString(), trials[0].GetProperty("iterations").GetInt64(), trials[0].GetProperty("value").GetDouble()));
        Assert.Equal(0.125, trials[0].GetProperty("last_result").GetProperty("value").GetDouble());
        Assert.Equal(("RUNNING", 0.5), (trials[1].GetProperty("status").GetString(), trials[1].GetProperty("config").GetProperty("x").GetDouble()));
    }

    [Fact]
    public async Task NeverOverwritesAnEarlierRun()
    {
        var first = RunFolderWriter.Create(_root, "exp");
        first.Append("t00001", Result(1, 1));
        await first.DisposeAsync();

        var second = RunFolderWriter.Create(_root, "exp");
        await second.DisposeAsync();

        Assert.Equal(Path.Combine(_root, "exp-2"), second.Directory);
        Assert.Single(File.ReadAllLines(Path.Combine(_root, "exp", RunFolderWriter.ResultsFileName)));
    }

    [Fact]
    public async Task AFailedWrite_IsRetried_AndALastingFailureIsReported()
    {
        // Only this test's own flushes write: a background flush racing its changes below would fail them.
        var writer = RunFolderWriter.Create(_root, "exp", flushInterval: TimeSpan.FromDays(1));
        var spec = SpecParser.Parse("name: exp\ntrainable: noop\nmetric: value\nspace: { x: { uniform: [0, 1] } }");
        var document = new ExperimentDocument("exp-1", spec, ExperimentStatus.Running, null, DateTimeOffset.UnixEpoch, null, new Dictionary<TrialStatus, int>(), null, new TrialTable(new MemoryTrialArchive(), "value").Capture(withCurves: false));
        writer.UpdateExperiment(document);
        writer.Append("t00001", Result(1, 1));
        var blocked = Path.Combine(_root, "exp", "experiment.json");
        Directory.CreateDirectory(blocked);

        Assert.ThrowsAny<IOException>(() => writer.Flush());
        Directory.Delete(blocked);
        writer.UpdateExperiment(document);
        writer.Flush();
        Assert.True(File.Exists(blocked));
        Assert.Single(File.ReadAllLines(Path.Combine(_root, "exp", RunFolderWriter.ResultsFileName)));

        File.Delete(blocked);
        Directory.CreateDirectory(blocked);
        writer.UpdateExperiment(document);
        var ex = await Assert.ThrowsAsync<IOException>(async () => await writer.DisposeAsync());
        Assert.Contains("could not write results", ex.Message, StringComparison.Ordinal);
    }
}
