using System.Net;
using System.Net.Sockets;

namespace Tuner.Observability.Tests;

/// <summary>
/// A cluster as deploy/ runs it, as processes on loopback: redis-server, a Scheduler.Silo with its
/// monitoring endpoint, and one TrialWorker with a Prometheus scrape port and one GPU (a stand-in
/// nvidia-smi reports its load, so the GPU gauges have something to say).
/// </summary>
public sealed class MonitoredCluster : IAsyncLifetime
{
    private readonly string _tools = Directory.CreateTempSubdirectory("tuner-fake-gpu-").FullName;
    private LocalCluster? _cluster;

    internal LocalCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster has not started");

    public Uri WorkerMetrics { get; } = new($"http://localhost:{FreePort()}/metrics");

    public async ValueTask InitializeAsync()
    {
        var smi = Path.Combine(_tools, "nvidia-smi");
        await File.WriteAllTextAsync(smi, """
            #!/bin/sh
            # Stands in for nvidia-smi: one GPU of 16 GiB, 37% busy, 1 GiB in use.
            case "$1" in
              *utilization*) echo "0, 37, 1024" ;;
              *) echo "0, 16384" ;;
            esac
            """.Replace("\r", string.Empty, StringComparison.Ordinal));
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the cluster tests run trial processes and nvidia-smi stand-ins the Linux way");
        }

        File.SetUnixFileMode(smi, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _cluster = await LocalCluster.StartAsync(workers: 1, cpusPerWorker: 2, workerLease: TimeSpan.FromSeconds(30), id =>
        [
            $"--Worker:NvidiaSmi={smi}",
            "--Worker:GpuSampleInterval=00:00:00.200",
            $"--Tuner:Telemetry:PrometheusPort={WorkerMetrics.Port}",
        ]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        Directory.Delete(_tools, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class MonitoredClusterCollection : ICollectionFixture<MonitoredCluster>
{
    public const string Name = "monitored cluster";
}
