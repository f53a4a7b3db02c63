using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using Orleans.Dashboard;
using Tuner.Hosting;
using Tuner.Worker;
using Tuner.Worker.Hosting;

// A worker silo. It joins the cluster of Tuner:Cluster (Redis with Tuner:Cluster:Redis; without it the
// development cluster of a Scheduler.Silo on this machine, silo port 11111) and offers the slots of
// section Worker (CpuSlots: one per core by default; Gpus; HeartbeatInterval). Stopping it (SIGTERM)
// drains it: its trials checkpoint and continue on other workers. A bad setting stops it at start with
// exit code 2, naming the setting.
return await ValidatedOptionsExtensions.RunOrExplainAsync(async () =>
{
    var builder = Host.CreateApplicationBuilder(args);
    var cluster = TunerClusterOptions.From(builder.Configuration, defaultSiloPort: 11112, defaultGatewayPort: 0);
    builder.Services.AddValidatedOptions<WorkerOptions>(WorkerOptions.Section);
    builder.UseOrleans(silo =>
    {
        silo.UseTunerCluster(cluster);
        silo.AddTunerWorker();
        silo.AddDashboard();
    });

    // Spans, metrics and logs over OTLP where OTEL_EXPORTER_OTLP_ENDPOINT says; with Tuner:Telemetry:PrometheusPort
    // the worker's metrics (GPU load, checkpoints) are also served at /metrics there for Prometheus to scrape
    // (on Tuner:Telemetry:PrometheusHost, localhost by default; "+" for every address).
    var telemetry = builder.Configuration.GetSection(TunerTelemetryOptions.Section).Get<TunerTelemetryOptions>() ?? new TunerTelemetryOptions();
    Action<MeterProviderBuilder>? scrape = null;
    if (telemetry.PrometheusPort is { } port)
    {
        scrape = m => m.AddPrometheusHttpListener(o =>
        {
            o.Host = telemetry.PrometheusHost;
            o.Port = port;
        });
    }

    builder.Services.AddTunerTelemetry(builder.Configuration, "tuner-worker", scrape);
    await builder.Build().RunAsync();
});
