using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
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
// for Prometheus and the Orleans dashboard (/dashboard).
var builder = WebApplication.CreateBuilder(args);
var api = TunerApiOptions.From(builder.Configuration);
if (api.Problems() is { Count: > 0 } problems)
{
    Console.Error.WriteLine("error: the API settings are not safe to serve:\n  " + string.Join("\n  ", problems));
    return 2;
}

var monitoring = MonitoringOptions.From(builder.Configuration);
var cluster = TunerClusterOptions.From(builder.Configuration, 11111, 30000);
builder.UseOrleans(silo =>
{
    silo.UseTunerCluster(cluster);
    silo.AddTunerControlPlane(o => builder.Configuration.GetSection("Tuner:Scheduler").Bind(o));
    silo.AddDashboard();
});
builder.Services.AddTunerApi(api);

// Spans and logs over OTLP where OTEL_EXPORTER_OTLP_ENDPOINT says; metrics there and on /metrics.
builder.Services.AddTunerTelemetry(builder.Configuration, "tuner-scheduler", m => m.AddPrometheusExporter(), t => t.AddAspNetCoreInstrumentation());
builder.WebHost.ConfigureKestrel(k =>
{
    k.ListenOn(api);
    k.ListenOnMonitoring(monitoring);
});
var app = builder.Build();
app.MapTunerApi();
app.MapTunerMonitoring(monitoring);
await app.RunAsync();
return 0;
