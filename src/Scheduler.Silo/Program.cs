using Microsoft.Extensions.Hosting;
using Tuner.Scheduler.Hosting;

// The scheduler silo: experiments, trials and the resource scheduler. Workers join it as silos of
// the same cluster. Without configuration it forms a one-machine development cluster on localhost.
var builder = Host.CreateApplicationBuilder(args);
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering();
    silo.AddTunerControlPlane();
});

await builder.Build().RunAsync();
