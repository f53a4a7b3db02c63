using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orleans.Dashboard;
using Tuner.Hosting;
using Tuner.Scheduler.Api;
using Tuner.Scheduler.Hosting;
using Tuner.Scheduler.Monitoring;

// The scheduler silo: experiments, trials and the resource scheduler, and the tuner.v1 gRPC API
// (section Tuner:Api; by default http://127.0.0.1:5080, loopback only, no key). Workers join it as
// silos of the same cluster: through Redis with Tuner:Cluster:Redis, else a one-machine development
// cluster on ports 11111 (silo) and 30000 (gateway). Tuner:Scheduler:WorkerLease says when a silent
// worker is lost. Tuner:Monitoring:Urls (by default http://127.0.0.1:5081) serves the live page, /metrics
// for Prometheus and the Orleans dashboard (/dashboard). Every section is validated when the silo starts:
// a bad setting stops it with exit code 2, naming the setting.
return await ValidatedOptionsExtensions.RunOrExplainAsync(async () =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.Services.AddValidatedOptions<TunerApiOptions>(TunerApiOptions.Section).PostConfigure(o => o.UseConfiguredUrls(builder.Configuration));
    builder.Services.AddValidatedOptions<MonitoringOptions>(MonitoringOptions.Section).PostConfigure(o => o.UseConfiguredUrls(builder.Configuration));
    builder.Services.AddValidatedOptions<ResourceSchedulerOptions>(ResourceSchedulerOptions.Section);
    var cluster = TunerClusterOptions.From(builder.Configuration, 11111, 30000);
    builder.UseOrleans(silo =>
    {
        silo.UseTunerCluster(cluster);
        silo.AddTunerControlPlane();
        silo.AddDashboard();
    });
    builder.Services.AddTunerApi();

    // Spans and logs over OTLP where OTEL_EXPORTER_OTLP_ENDPOINT says; metrics there and on /metrics.
    builder.Services.AddTunerTelemetry(builder.Configuration, "tuner-scheduler", m => m.AddPrometheusExporter(), t => t.AddAspNetCoreInstrumentation());
    builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<TunerApiOptions>, IOptions<MonitoringOptions>>((kestrel, api, monitoring) =>
    {
        kestrel.ListenOn(api.Value);
        kestrel.ListenOnMonitoring(monitoring.Value);
    });
    var app = builder.Build();
    app.MapTunerApi();
    app.MapTunerMonitoring(app.Services.GetRequiredService<IOptions<MonitoringOptions>>().Value);
    await app.RunAsync();
});
