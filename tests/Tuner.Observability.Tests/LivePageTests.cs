using System.Text.RegularExpressions;
using Tuner.Client;
using Tuner.Core.Spec;
using Tuner.Core.Space;

namespace Tuner.Observability.Tests;

/// <summary>
/// The scheduler's live page and the Orleans dashboard, rendered by headless Chromium: the page's
/// script draws the workers, experiments and trials from /api/live and redraws as they change.
/// </summary>
[Collection(MonitoredClusterCollection.Name)]
public sealed partial class LivePageTests(MonitoredCluster fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const int Reports = 40;

    [Fact]
    public async Task TheLivePage_ShowsExperimentsTrialsAndWorkers_AndUpdatesWhileTheyRun()
    {
        using var client = fixture.Cluster.Client();
        var spec = new ExperimentSpec
        {
            Name = "live-page",
            Trainable = "sleep",
            Metric = "value",
            Samples = 4,
            MaxConcurrent = 2,
            // Long enough (2 x 10 s) that a Chromium slow to start on a loaded machine still sees trials running.
            Params = new TrialConfig(new Dictionary<string, ParamValue> { ["seconds"] = 0.25, ["reports"] = Reports }),
            Search = new SearchSpec { Algorithm = "random", Seed = 9 },
            Resources = new ResourceSpec { Cpu = 1 },
            Space = new Client.Space.SearchSpaceBuilder().Uniform("x", 0, 1).Build(),
        };
        var id = (await client.SubmitAsync(spec, cancellationToken: Ct)).ExperimentId;
        var page = fixture.Cluster.MonitoringAddress.ToString();

        // While it runs: the script has drawn its running trials with their worker, refreshing as it goes.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        string running;
        while (true)
        {
            running = await Chromium.DumpDomAsync(page, TimeSpan.FromSeconds(3), Ct);
            if (Rows(running, id).Any(r => r.State == "RUNNING" && r.Iteration > 0))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the live page never showed a running trial of {id}:\n{running}");
        }

        Assert.Contains($"data-experiment=\"{id}\"", running, StringComparison.Ordinal);
        Assert.Contains("data-worker=\"w1\"", running, StringComparison.Ordinal);
        Assert.True(Refreshes(running) >= 2, "the page did not refresh itself");
        var runningRow = Rows(running, id).First(r => r.State == "RUNNING");
        Assert.Contains($"<td>{runningRow.Trial}</td><td class=\"state RUNNING\">RUNNING</td><td>w1</td>", running, StringComparison.Ordinal);

        // Once it has ended, the same page shows every trial TERMINATED at its last iteration.
        await client.FollowAsync(id, cancellationToken: Ct);
        var ended = await Chromium.DumpDomAsync(page, TimeSpan.FromSeconds(2), Ct);
        var rows = Rows(ended, id);
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.Equal(("TERMINATED", (long)Reports), (r.State, r.Iteration)));
        Assert.Contains("completed", ended, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOrleansDashboard_IsServed_AndRendersTheCluster()
    {
        var dom = await Chromium.DumpDomAsync(new Uri(fixture.Cluster.MonitoringAddress, "/dashboard/").ToString(), TimeSpan.FromSeconds(5), Ct);
        Assert.Contains("Orleans", dom, StringComparison.Ordinal);

        // Drawn by its script from the cluster's statistics: the scheduler and the worker are both active silos.
        var silos = ActiveSilos().Match(dom);
        Assert.True(silos.Success, dom.Length > 4000 ? dom[..4000] : dom);
        Assert.Equal(2, int.Parse(silos.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static List<(string Trial, string State, long Iteration)> Rows(string dom, string experimentId)
    {
        var start = dom.IndexOf($"data-experiment=\"{experimentId}\"", StringComparison.Ordinal);
        if (start < 0)
        {
            return [];
        }

        var end = dom.IndexOf("</section>", start, StringComparison.Ordinal);
        return [.. Row().Matches(dom[start..end]).Select(m => (m.Groups["trial"].Value, m.Groups["state"].Value, long.Parse(m.Groups["iteration"].Value, System.Globalization.CultureInfo.InvariantCulture)))];
    }

    private static int Refreshes(string dom) => RefreshCount().Match(dom) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"data-trial=""(?<trial>t\d+)"" data-state=""(?<state>[A-Z]+)"" data-iteration=""(?<iteration>\d+)""")]
    private static partial Regex Row();

    [GeneratedRegex(@"data-refreshes=""(\d+)""")]
    private static partial Regex RefreshCount();

    [GeneratedRegex(@"Active Silos</span><span class=""info-box-number"">(\d+)</span>")]
    private static partial Regex ActiveSilos();
}
