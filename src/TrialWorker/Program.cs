using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Tuner.Hosting;
using Tuner.Worker.Hosting;

// A worker silo. It joins the cluster of Tuner:Cluster (Redis with Tuner:Cluster:Redis; without it the
// development cluster of a Scheduler.Silo on this machine, silo port 11111) and offers the slots of
// section Worker (CpuSlots: one per core by default; Gpus; HeartbeatInterval). Stopping it (SIGTERM)
// drains it: its trials checkpoint and continue on other workers.
var builder = Host.CreateApplicationBuilder(args);
var cluster = TunerClusterOptions.From(builder.Configuration, defaultSiloPort: 11112, defaultGatewayPort: 0);
builder.UseOrleans(silo =>
{
    silo.UseTunerCluster(cluster);
    silo.AddTunerWorker(options => builder.Configuration.GetSection("Worker").Bind(options));
});

await builder.Build().RunAsync();
