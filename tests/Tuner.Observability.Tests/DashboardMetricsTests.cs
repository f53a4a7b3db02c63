using System.Text.Json;
using System.Text.RegularExpressions;
using Tuner.Client;
using Tuner.Core.Spec;
using Tuner.Core.Space;

namespace Tuner.Observability.Tests;

/// <summary>
/// deploy/grafana's dashboards query only what the silos serve: an experiment (early stopping,
/// checkpoints) runs on the cluster, the scheduler's /metrics and the worker's are scraped, and every
/// metric each panel (and template variable) queries is there with every label it filters, groups or
/// names a series by.
/// </summary>
[Collection(MonitoredClusterCollection.Name)]
public sealed partial class DashboardMetricsTests(MonitoredCluster fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string Dashboards = Path.Combine(RepoRoot.Path, "deploy", "grafana", "dashboards");

    [Fact]
    public async Task EveryMetricADashboardQueries_IsServed_WithTheLabelsItUses()
    {
        using var client = fixture.Cluster.Client();
        var spec = new ExperimentSpec
        {
            Name = "dashboards",
            Trainable = "sleep",
            Metric = "value",
            Mode = OptimizationMode.Max,
            Samples = 12,
            MaxConcurrent = 2,
            Params = new TrialConfig(new Dictionary<string, ParamValue> { ["seconds"] = 0.05, ["reports"] = 9 }),
            Search = new SearchSpec { Algorithm = "random", Seed = 3 },
            Scheduler = new SchedulerSpec { Algorithm = "asha", MaxT = 9, GracePeriod = 1, ReductionFactor = 3 },
            Checkpoint = new CheckpointSpec { Frequency = 2 },
            Resources = new ResourceSpec { Cpu = 1 },
            Space = new Client.Space.SearchSpaceBuilder().Uniform("x", 0, 1).Build(),
        };
        var id = (await client.SubmitAsync(spec, cancellationToken: Ct)).ExperimentId;
        var served = new Dictionary<string, List<Dictionary<string, string>>>(StringComparer.Ordinal);
        using var http = new HttpClient();
        async Task ScrapeAsync()
        {
            foreach (var endpoint in new[] { new Uri(fixture.Cluster.MonitoringAddress, "/metrics"), fixture.WorkerMetrics })
            {
                foreach (var (name, labels) in ParseExposition(await http.GetStringAsync(endpoint, Ct)))
                {
                    (served.TryGetValue(name, out var series) ? series : served[name] = []).Add(labels);
                }
            }
        }

        // The per-trial gauges hold live trials only (they do not grow with finished ones): scraped while trials run.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!served.TryGetValue("tuner_trial_metric", out var live) || !live.Any(s => s.GetValueOrDefault("experiment") == id))
        {
            Assert.True(DateTime.UtcNow < deadline, "no tuner_trial_metric series of the running experiment was served within 60 s");
            await ScrapeAsync();
        }

        var grid = await client.FollowAsync(id, cancellationToken: Ct);
        Assert.Equal(12, grid.Trials.Count);
        await ScrapeAsync();

        var checkedQueries = 0;
        foreach (var file in Directory.GetFiles(Dashboards, "*.json"))
        {
            using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(file, Ct));
            foreach (var (where, expr, legend) in Queries(dashboard.RootElement))
            {
                var context = $"{Path.GetFileName(file)}: {where}: {expr}";
                var metrics = MetricName().Matches(expr).Select(m => m.Value).Distinct().ToList();
                Assert.True(metrics.Count > 0, $"{context} queries no tuner metric");
                foreach (var metric in metrics)
                {
                    Assert.True(served.ContainsKey(metric), $"{context}: {metric} is not served (served: {string.Join(", ", served.Keys.Order())})");
                }

                // A selector's labels are on its metric, with the value it asks for (unless a variable).
                foreach (Match selector in Selector().Matches(expr))
                {
                    var series = served[selector.Groups["metric"].Value];
                    foreach (Match matcher in Matcher().Matches(selector.Groups["matchers"].Value))
                    {
                        var (label, value) = (matcher.Groups["label"].Value, matcher.Groups["value"].Value);
                        Assert.True(series.Any(s => s.ContainsKey(label)), $"{context}: {selector.Groups["metric"].Value} has no label {label}");
                        if (!value.Contains('$', StringComparison.Ordinal))
                        {
                            Assert.True(series.Any(s => s.GetValueOrDefault(label) == value), $"{context}: no {selector.Groups["metric"].Value} series has {label}=\"{value}\"");
                        }
                    }
                }

                // Labels it groups by or names series by are on its metrics.
                var labels = Grouping().Matches(expr).SelectMany(m => m.Groups["labels"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    .Concat(Legend().Matches(legend ?? string.Empty).Select(m => m.Groups["label"].Value))
                    .Concat(LabelValues().Matches(expr).Select(m => m.Groups["label"].Value));
                foreach (var label in labels.Distinct())
                {
                    Assert.True(metrics.Any(m => served[m].Any(s => s.ContainsKey(label))), $"{context}: none of {string.Join(", ", metrics)} has the label {label}");
                }

                checkedQueries++;
            }
        }

        Assert.True(checkedQueries >= 15, $"only {checkedQueries} queries were found in {Dashboards}");

        // The values are this experiment's: its 12 trials ended, and the stand-in GPU's load.
        Assert.Contains(served["tuner_trials"], s => s.GetValueOrDefault("experiment") == id && s.GetValueOrDefault("state") == "TERMINATED");
        Assert.Contains(served["tuner_gpu_utilization"], s => s.GetValueOrDefault("worker") == "w1" && s.GetValueOrDefault("gpu") == "0");
    }

    /// <summary>Every panel target's expression and legend, and every query variable's query.</summary>
    private static IEnumerable<(string Where, string Expr, string? Legend)> Queries(JsonElement dashboard)
    {
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                yield return ($"panel '{panel.GetProperty("title").GetString()}'", target.GetProperty("expr").GetString()!, target.TryGetProperty("legendFormat", out var legend) ? legend.GetString() : null);
            }
        }

        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() == "query")
            {
                yield return ($"variable '{variable.GetProperty("name").GetString()}'", variable.GetProperty("query").GetProperty("query").GetString()!, null);
            }
        }
    }

    /// <summary>Series names and label sets of a Prometheus text exposition.</summary>
    private static IEnumerable<(string Name, Dictionary<string, string> Labels)> ParseExposition(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            var match = Series().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            var labels = ExpositionLabel().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups["label"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal);
            yield return (match.Groups["name"].Value, labels);
        }
    }

    [GeneratedRegex(@"\btuner_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"(?<metric>\btuner_[a-z0-9_]+)\{(?<matchers>[^}]*)\}")]
    private static partial Regex Selector();

    [GeneratedRegex(@"(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)\s*""(?<value>[^""]*)""")]
    private static partial Regex Matcher();

    [GeneratedRegex(@"\b(?:by|without)\s*\((?<labels>[^)]*)\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\{\{\s*(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")]
    private static partial Regex Legend();

    [GeneratedRegex(@"label_values\(\s*[a-z0-9_]+\s*,\s*(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*\)")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+\S+(\s+\S+)?$")]
    private static partial Regex Series();

    [GeneratedRegex(@"(?<label>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex ExpositionLabel();
}
