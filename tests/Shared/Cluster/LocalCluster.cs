using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Tuner.Client;

namespace Tuner.Tests;

/// <summary>
/// The deploy/ topology as real processes on loopback: a redis-server, one Scheduler.Silo and N
/// TrialWorkers joined through Redis, each process's output kept for the assertions and for a
/// failing test's message.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private readonly List<Process> _processes = [];
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _output = new();
    private readonly Dictionary<string, Process> _workers = [];
    private string[] _schedulerArguments = [];
    private Func<string, IEnumerable<string>>? _workerArguments;
    private Process? _scheduler;
    private readonly string _clusterId = $"test-{Guid.NewGuid():N}"[..16];
    private readonly int _redisPort = FreePort();

    private LocalCluster(string outputRoot) => OutputRoot = outputRoot;

    public string OutputRoot { get; }

    public Uri ApiAddress { get; private set; } = null!;

    /// <summary>The scheduler's monitoring address: live page, /metrics, /dashboard.</summary>
    public Uri MonitoringAddress { get; private set; } = null!;

    /// <param name="workerArguments">More command-line settings for each worker, by its id.</param>
    public static async Task<LocalCluster> StartAsync(int workers, double cpusPerWorker, TimeSpan workerLease, Func<string, IEnumerable<string>>? workerArguments = null)
    {
        var cluster = new LocalCluster(Directory.CreateTempSubdirectory("tuner-cluster-").FullName);
        try
        {
            await cluster.StartRedisAsync();
            var apiPort = FreePort();
            cluster.ApiAddress = new Uri($"http://127.0.0.1:{apiPort}");
            cluster.MonitoringAddress = new Uri($"http://127.0.0.1:{FreePort()}");
            cluster._workerArguments = workerArguments;
            cluster._schedulerArguments = [
                $"--Tuner:Monitoring:Urls:0={cluster.MonitoringAddress}",
                $"--Tuner:Api:Urls:0=http://127.0.0.1:{apiPort}",
                $"--Tuner:Api:OutputRoot={cluster.OutputRoot}",
                $"--Tuner:Cluster:SiloPort={FreePort()}",
                $"--Tuner:Cluster:GatewayPort={FreePort()}",
                $"--Tuner:Scheduler:WorkerLease={workerLease:c}",
            ];
            cluster.StartScheduler();
            for (var i = 1; i <= workers; i++)
            {
                cluster.StartWorker($"w{i}", cpusPerWorker);
            }

            for (var i = 1; i <= workers; i++)
            {
                await cluster.WaitForLineAsync("scheduler", $"Worker w{i} on ", TimeSpan.FromSeconds(90));
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the scheduler silo (again, after <see cref="KillScheduler"/>) on the same ports, API address and Redis.</summary>
    public void StartScheduler() => _scheduler = Start("scheduler", Built("Scheduler.Silo"), Environment(), _schedulerArguments);

    /// <summary>SIGKILL to the scheduler silo: the control plane is gone until it is started again.</summary>
    public void KillScheduler()
    {
        _scheduler!.Kill(entireProcessTree: true);
        _scheduler.WaitForExit();
    }

    public TunerClient Client() => new(new TunerClientOptions { Address = ApiAddress, MaxAttempts = 10, ReconnectFor = TimeSpan.FromMinutes(2) });

    public void StartWorker(string id, double cpus) =>
        _workers[id] = Start(id, Built("TrialWorker"), Environment(), [
            "--Tuner:Cluster:SiloPort=0",
            $"--Worker:WorkerId={id}",
            $"--Worker:CpuSlots={cpus}",
            "--Worker:HeartbeatInterval=00:00:00.500",
            .. _workerArguments?.Invoke(id) ?? [],
        ]);

    /// <summary>SIGTERM: the worker drains (its trials checkpoint and are handed back) and exits.</summary>
    public void Stop(string worker) => _ = Kill(_workers[worker].Id, 15);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>SIGKILL: no drain, no goodbye; the scheduler must notice by the lease.</summary>
    public void Kill(string worker) => _workers[worker].Kill(entireProcessTree: true);

    public string Output(string name) => string.Join('\n', _output.GetValueOrDefault(name) ?? new ConcurrentQueue<string>());

    public async Task WaitForLineAsync(string name, string text, TimeSpan timeout)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!(_output.GetValueOrDefault(name)?.Any(l => l.Contains(text, StringComparison.Ordinal)) ?? false))
        {
            if (TimeProvider.System.GetElapsedTime(started) > timeout)
            {
                throw new TimeoutException($"{name} did not print '{text}' within {timeout.TotalSeconds} s:\n{Output(name)}");
            }

            await Task.Delay(50);
        }
    }

    private Dictionary<string, string> Environment() => new()
    {
        ["Tuner__Cluster__Redis"] = $"127.0.0.1:{_redisPort}",
        ["Tuner__Cluster__ClusterId"] = _clusterId,
        ["Tuner__Cluster__AdvertisedAddress"] = "127.0.0.1",
        ["DOTNET_gcServer"] = "0",
    };

    private async Task StartRedisAsync()
    {
        var redis = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed; install it (Debian: apt-get install -y redis-server), as .ci/run does");
        Start("redis", redis, [], ["--port", _redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no"]);
        await WaitForLineAsync("redis", "Ready to accept connections", TimeSpan.FromSeconds(20));
    }

    /// <summary>The program's own build output, in this test's configuration.</summary>
    internal static string Built(string project)
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var path = Path.Combine(RepoRoot.Path, "src", project, "bin", configuration, "net10.0", project + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{project} is not built at {path}", path);
    }

    private Process Start(string name, string program, Dictionary<string, string> environment, IEnumerable<string> arguments)
    {
        var dll = program.EndsWith(".dll", StringComparison.Ordinal);
        var start = new ProcessStartInfo(dll ? "dotnet" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = OutputRoot,
        };
        if (dll)
        {
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(program);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var lines = _output.GetOrAdd(name, _ => new ConcurrentQueue<string>());
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Keep(lines, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(lines, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    private static void Keep(ConcurrentQueue<string> lines, string? line)
    {
        if (line is not null)
        {
            lines.Enqueue(line);
            while (lines.Count > 5000 && lines.TryDequeue(out _))
            {
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
        }

        try
        {
            Directory.Delete(OutputRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
