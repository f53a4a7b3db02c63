using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Orleans.Dashboard;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;

namespace Tuner.Scheduler.Monitoring;

/// <summary>The live page, its data, the Prometheus endpoint and the Orleans dashboard, on the monitoring addresses only.</summary>
public static class MonitoringHosting
{
    public static void ListenOnMonitoring(this KestrelServerOptions kestrel, MonitoringOptions options)
    {
        foreach (var url in options.ParsedUrls())
        {
            foreach (var address in Api.TunerApiHosting.Addresses(url))
            {
                kestrel.Listen(address, url.Port, listen => listen.Protocols = HttpProtocols.Http1);
            }
        }
    }

    /// <summary>
    /// Maps <c>/</c> (the live page), <c>/api/live</c> (what it shows, as JSON), <c>/metrics</c> (Prometheus;
    /// needs <c>AddPrometheusExporter</c> on the meter provider) and <c>/dashboard</c> (the Orleans
    /// dashboard; needs <c>AddDashboard</c> on the silo), answering on the monitoring ports only.
    /// </summary>
    public static IEndpointRouteBuilder MapTunerMonitoring(this IEndpointRouteBuilder app, MonitoringOptions options)
    {
        var hosts = options.ParsedUrls().Select(u => $"*:{u.Port}").Distinct().ToArray();
        if (hosts.Length == 0)
        {
            return app;
        }

        var group = app.MapGroup("").RequireHost(hosts);
        group.MapGet("/", () => Results.Content(LivePage.Html, "text/html; charset=utf-8"));
        group.MapGet("/api/live", async (IGrainFactory grains, CancellationToken cancellationToken) =>
            Results.Json(await LiveStateAsync(grains, options, cancellationToken), LiveJson));
        app.MapPrometheusScrapingEndpoint("/metrics").RequireHost(hosts);
        app.MapOrleansDashboard("/dashboard").RequireHost(hosts);
        return app;
    }

    private static readonly JsonSerializerOptions LiveJson = new(JsonSerializerDefaults.Web) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Every worker with its slots, the queue, and the newest experiments with their trials.</summary>
    public static async Task<LiveState> LiveStateAsync(IGrainFactory grains, MonitoringOptions options, CancellationToken cancellationToken)
    {
        var resources = await grains.GetGrain<IResourceSchedulerGrain>(IResourceSchedulerGrain.ClusterKey).GetResourcesAsync().WaitAsync(cancellationToken);
        var listings = await grains.GetGrain<IExperimentRegistryGrain>(IExperimentRegistryGrain.ClusterKey).ListAsync().WaitAsync(cancellationToken);
        var snapshots = await Task.WhenAll(listings.OrderByDescending(l => l.Created).Take(options.Experiments)
            .Select(l => grains.GetGrain<IExperimentGrain>(l.ExperimentId).GetSnapshotAsync(options.TrialsPerExperiment))).WaitAsync(cancellationToken);
        var experiments = new List<LiveExperiment>();
        foreach (var snapshot in snapshots)
        {
            experiments.Add(new LiveExperiment(
                snapshot.ExperimentId,
                snapshot.Name,
                snapshot.Status.ToWire(),
                snapshot.StatusReason,
                snapshot.Metric,
                snapshot.Mode.ToString().ToLowerInvariant(),
                snapshot.TotalTrials,
                snapshot.StateCounts.ToDictionary(c => c.Key.ToWire(), c => c.Value),
                snapshot.Best is { } best ? new LiveBest(best.TrialId, best.LastResult.GetMetric(snapshot.Metric), best.Config.ToString()) : null,
                snapshot.ResultsReported,
                snapshot.ElapsedS,
                [.. snapshot.Rows.Select(r => new LiveTrial(r.TrialId, r.Status.ToWire(), r.Worker, r.Iteration, r.Metric, r.Config.ToDictionary(c => c.Key, c => c.Value.ToDisplayString()), r.StatusReason, r.Diagnosis))]));
        }

        return new LiveState(
            DateTimeOffset.UtcNow,
            [.. resources.Workers.Select(w => new LiveWorker(w.Info.WorkerId, w.Info.Host, w.CpuUsed, w.Info.CpuSlots, w.GpuUsed, w.Info.Gpus, w.Trials))],
            resources.Queued,
            experiments);
    }
}

public sealed record LiveState(DateTimeOffset GeneratedAt, IReadOnlyList<LiveWorker> Workers, int Queued, IReadOnlyList<LiveExperiment> Experiments);

public sealed record LiveWorker(string Id, string Host, double CpuUsed, double CpuSlots, double GpuUsed, int Gpus, int Trials);

public sealed record LiveExperiment(
    string Id,
    string Name,
    string Status,
    string? StatusReason,
    string Metric,
    string Mode,
    long TotalTrials,
    IReadOnlyDictionary<string, int> States,
    LiveBest? Best,
    long Results,
    double ElapsedS,
    IReadOnlyList<LiveTrial> Trials);

public sealed record LiveBest(string Trial, double? Value, string Config);

public sealed record LiveTrial(string Id, string State, string? Worker, long Iteration, double? Metric, IReadOnlyDictionary<string, string> Config, string? Reason, string? Diagnosis);
