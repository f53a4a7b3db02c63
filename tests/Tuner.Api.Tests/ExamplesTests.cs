using GesturesHypertune;
using Tuner.Core.Experiments;

namespace Tuner.Api.Tests;

/// <summary>The C# example (the course's hypertune.py through the client library) runs, shortened.</summary>
public sealed class ExamplesTests
{
    [Fact]
    public async Task TheHypertuneExample_TunesGrusOnTheGestures_ThroughTheClient()
    {
        SharedData.UseForProcess();
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();
        var csv = Path.Combine(server.OutputRoot, "hypertune.csv");
        var output = new StringWriter();

        var grid = await Hypertune.RunAsync(client, new HypertuneOptions { Samples = 2, Epochs = 2, CsvPath = csv }, output, TestContext.Current.CancellationToken);

        Assert.Equal(ExperimentStatus.Completed, grid.Status);
        Assert.All(grid.Trials, t => Assert.Equal(TrialStatus.Terminated, t.Status));
        Assert.All(grid.Trials, t => Assert.InRange(t.Config["hidden_size"].AsInteger(), 16, 128));
        var best = grid.GetBestResult()!;
        Assert.True(best.Trial.LastResult!.GetMetric("accuracy") > 0.3, output.ToString());
        Assert.Contains($"best trial {best.Trial.TrialId}", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(3, File.ReadAllLines(csv).Length);
    }
}
