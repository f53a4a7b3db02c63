using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tuner.Hosting;
using Tuner.Scheduler.Hosting;
using Tuner.Worker.Hosting;

namespace Tuner.Embedded;

/// <summary>
/// A whole Tuner cluster in this process: one silo hosting the experiment, trial and resource
/// scheduler grains and a worker, on loopback ports of its own. The same grains and the same
/// worker run as separate processes in a real cluster.
/// </summary>
public sealed class EmbeddedTuner : IAsyncDisposable
{
    private readonly IHost _host;

    private EmbeddedTuner(IHost host)
    {
        _host = host;
        Client = new ClusterTunerClient(host.Services.GetRequiredService<IGrainFactory>());
    }

    public ClusterTunerClient Client { get; }

    /// <summary>The host's services: the worker, its assembly cache, the grain factory.</summary>
    public IServiceProvider Services => _host.Services;

    public static async Task<EmbeddedTuner> StartAsync(EmbeddedTunerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new EmbeddedTunerOptions();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(options.LogLevel);

        // The watchdog measures thread stalls; in a short-lived process sharing two cores with trials its warnings are noise.
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", Microsoft.Extensions.Logging.LogLevel.Error);

        // Workstation GC is deliberate for a command-line process; the silo's advice to use server GC is not for us.
        builder.Logging.AddFilter("Orleans.Runtime.Silo", Microsoft.Extensions.Logging.LogLevel.Error);
        options.ConfigureLogging?.Invoke(builder.Logging);

        // Spans, metrics and logs over OTLP where the standard OTEL_* variables say (OTEL_EXPORTER_OTLP_ENDPOINT).
        builder.Configuration.AddEnvironmentVariables();
        builder.Services.AddTunerTelemetry(builder.Configuration, "tuner-embedded");
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(FreePort(), FreePort(), serviceId: "tuner-embedded", clusterId: $"embedded-{Environment.ProcessId}");
            silo.AddActivityPropagation();
            // The worker lives in this very process: it cannot be lost without the scheduler, so no lease expires it.
            silo.AddTunerControlPlane(o => o.WorkerLease = TimeSpan.FromDays(1));
            silo.AddTunerWorker(w =>
            {
                w.WorkerId = "embedded";
                w.CpuSlots = options.CpuSlots;
                w.Gpus = options.Gpus;
            });
        });
        var host = builder.Build();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        return new EmbeddedTuner(host);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().ConfigureAwait(false);
        _host.Dispose();
    }
}
