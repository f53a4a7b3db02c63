using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Tuner.Worker.Hosting;

// A worker silo. Without configuration it joins the development cluster of a Scheduler.Silo on
// this machine (its silo port 11111) and offers one CPU slot per core.
var builder = Host.CreateApplicationBuilder(args);
var siloPort = builder.Configuration.GetValue("Worker:SiloPort", 11112);
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering(siloPort, gatewayPort: siloPort + 20000, primarySiloEndpoint: new IPEndPoint(IPAddress.Loopback, 11111));
    silo.AddTunerWorker(options => builder.Configuration.GetSection("Worker").Bind(options));
});

await builder.Build().RunAsync();
