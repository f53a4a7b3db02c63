using System.Text.Json;
using Spectre.Console;
using Tuner.Cli;
using Tuner.Core.Experiments;
using Tuner.Core.Spec;

namespace Tuner.Api.Tests;

/// <summary><c>tuner submit | watch | status | stop | resume | results</c> against a real service.</summary>
public sealed class CliRemoteTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(int ExitCode, string Output)> TunerAsync(params string[] args)
    {
        var (console, writer) = TestConsole.Create(200);
        var code = await TunerCli.RunAsync(args, console, Ct);
        return (code, writer.ToString());
    }

    private static string WriteSpec(ExperimentSpec spec)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("tuner-cli-").FullName, "spec.yaml");
        File.WriteAllText(path, SpecWriter.ToJson(spec, indented: true));
        return path;
    }

    [Fact]
    public async Task SubmitWatchStatusResults_DriveAnExperimentOnTheServer()
    {
        await using var server = await TunerServer.StartAsync();
        var url = server.Address.ToString();
        var spec = WriteSpec(ApiEndToEndTests.Branin(4));

        var (code, output) = await TunerAsync("submit", spec, "--server", url, "--id", "cli-branin", "--watch");
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("submitted cli-branin", output, StringComparison.Ordinal);
        Assert.Contains("4/4 trials ended, completed", output, StringComparison.Ordinal);

        (code, output) = await TunerAsync("status", "--server", url);
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("cli-branin", output, StringComparison.Ordinal);
        Assert.Contains("completed", output, StringComparison.Ordinal);

        (code, output) = await TunerAsync("results", "cli-branin", "--server", url, "--format", "json");
        Assert.Equal(ExitCodes.Success, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(4, json.RootElement.GetProperty("trials").GetArrayLength());
        var best = (await server.Embedded.GetAsync("cli-branin", 20, Ct)).Best!;
        Assert.Equal(best.TrialId, json.RootElement.GetProperty("best").GetProperty("trial_id").GetString());

        var csv = Path.Combine(Path.GetTempPath(), $"cli-{Guid.NewGuid():N}.csv");
        (code, _) = await TunerAsync("results", "cli-branin", "--server", url, "--format", "csv", "--output", csv);
        Assert.Equal(ExitCodes.Success, code);
        Assert.Equal(5, File.ReadAllLines(csv).Length);

        (code, output) = await TunerAsync("results", "cli-branin", "--server", url, "--scope", "best-ever");
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("--scope: 'best-ever' is not one of the allowed values: last, all, avg, last-5-avg, last-10-avg", output, StringComparison.Ordinal);

        (code, output) = await TunerAsync("status", "no-such-experiment", "--server", url);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("no experiment 'no-such-experiment'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAndResume_FromTheCommandLine()
    {
        await using var server = await TunerServer.StartAsync();
        var url = server.Address.ToString();
        var spec = WriteSpec(ApiEndToEndTests.Sleep(samples: 3, reports: 6, seconds: 0.05));
        var (code, _) = await TunerAsync("submit", spec, "--server", url, "--id", "cli-sleep");
        Assert.Equal(ExitCodes.Success, code);
        await Eventually.GetAsync(() => server.Embedded.GetAsync("cli-sleep", 20, Ct), s => s.ResultsReported >= 2, what: "two results");

        (code, var output) = await TunerAsync("stop", "cli-sleep", "--server", url);
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("cli-sleep: stopped", output, StringComparison.Ordinal);

        (code, output) = await TunerAsync("resume", "cli-sleep", "--server", url, "--watch");
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("3/3 trials ended, completed", output, StringComparison.Ordinal);
        var final = await server.Embedded.GetAsync("cli-sleep", 20, Ct);
        Assert.Equal(ExperimentStatus.Completed, final.Status);
        Assert.Equal(18, final.ResultsReported);
    }

    [Fact]
    public async Task WithoutAServer_TheCommandSaysWhereItLooked()
    {
        var (code, output) = await TunerAsync("status", "--server", "http://127.0.0.1:1");
        Assert.Equal(ExitCodes.RuntimeFailure, code);
        Assert.Contains("cannot reach the Tuner service at http://127.0.0.1:1", output, StringComparison.Ordinal);
    }
}
