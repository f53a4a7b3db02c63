using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Tuner.Hosting;
using Tuner.Scheduler.Api;
using Tuner.Scheduler.Hosting;

// The scheduler silo: experiments, trials and the resource scheduler, and the tuner.v1 gRPC API
// (section Tuner:Api; by default http://127.0.0.1:5080, loopback only, no key). Workers join it as
// silos of the same cluster: through Redis with Tuner:Cluster:Redis, else a one-machine development
// cluster on ports 11111 (silo) and 30000 (gateway). Tuner:Scheduler:WorkerLease says when a silent
// worker is lost.
var builder = WebApplication.CreateBuilder(args);
var api = builder.Configuration.GetSection(TunerApiOptions.Section).Get<TunerApiOptions>() ?? new TunerApiOptions();
if (api.Problems() is { Count: > 0 } problems)
{
    Console.Error.WriteLine("error: the API settings are not safe to serve:\n  " + string.Join("\n  ", problems));
    return 2;
}

var cluster = TunerClusterOptions.From(builder.Configuration, 11111, 30000);
builder.UseOrleans(silo =>
{
    silo.UseTunerCluster(cluster);
    silo.AddTunerControlPlane(o => builder.Configuration.GetSection("Tuner:Scheduler").Bind(o));
});
builder.Services.AddTunerApi(api);
builder.WebHost.ConfigureKestrel(k => k.ListenOn(api));
var app = builder.Build();
app.MapTunerApi();
await app.RunAsync();
return 0;
