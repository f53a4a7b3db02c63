using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tuner.Client;
using Tuner.Embedded;
using Tuner.Scheduler.Api;

namespace Tuner.Api.Tests;

/// <summary>
/// A Tuner service as a user meets it: a silo with a worker (the embedded cluster) and the tuner.v1
/// API on a real Kestrel on loopback, results in a folder of its own. The API can be restarted on
/// the same port while the silo keeps running.
/// </summary>
internal sealed class TunerServer : IAsyncDisposable
{
    private readonly EmbeddedTuner _tuner;
    private TunerApiOptions _options;

    private TunerServer(EmbeddedTuner tuner, TunerApiServer api, TunerApiOptions options, string outputRoot, CapturedLogs logs)
    {
        _tuner = tuner;
        Api = api;
        _options = options;
        OutputRoot = outputRoot;
        Logs = logs;
    }

    public TunerApiServer Api { get; private set; }

    public Uri Address => Api.Addresses[0];

    public string OutputRoot { get; }

    public CapturedLogs Logs { get; }

    public ClusterTunerClient Embedded => _tuner.Client;

    public IServiceProvider SiloServices => _tuner.Services;

    public static async Task<TunerServer> StartAsync(Action<TunerApiOptions>? configure = null, double cpus = 2)
    {
        var output = Directory.CreateTempSubdirectory("tuner-api-").FullName;
        var logs = new CapturedLogs();
        var options = new TunerApiOptions { Urls = ["http://127.0.0.1:0"], OutputRoot = output };
        configure?.Invoke(options);
        var tuner = await EmbeddedTuner.StartAsync(new EmbeddedTunerOptions
        {
            CpuSlots = cpus,
            LogLevel = LogLevel.Warning,
            ConfigureLogging = l => l.AddProvider(logs).AddFilter<CapturedLogs>(null, LogLevel.Information),
        });
        var api = await TunerApiHosting.StartAsync(tuner.Services.GetRequiredService<IGrainFactory>(), options, l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        return new TunerServer(tuner, api, options, output, logs);
    }

    /// <summary>Stops the API and starts it again on the same address; the silo and its experiments go on.</summary>
    public async Task RestartApiAsync()
    {
        await StopApiAsync();
        await StartApiAsync();
    }

    /// <summary>Stops the API only; <see cref="StartApiAsync"/> brings it back on the same address.</summary>
    public async Task StopApiAsync()
    {
        var address = Address;
        await Api.DisposeAsync();
        _options = Copy(_options, [$"{address.Scheme}://127.0.0.1:{address.Port}"]);
    }

    public async Task StartApiAsync() =>
        Api = await TunerApiHosting.StartAsync(_tuner.Services.GetRequiredService<IGrainFactory>(), _options, l => l.AddProvider(Logs).SetMinimumLevel(LogLevel.Information));

    public TunerClient Client(string? apiKey = null, HttpMessageHandler? handler = null) =>
        new(new TunerClientOptions { Address = Address, ApiKey = apiKey, HttpHandler = handler, ReconnectFor = TimeSpan.FromSeconds(30) });

    public Tuner.Api.V1.Tuner.TunerClient Raw(string? apiKey = null)
    {
        var channel = Grpc.Net.Client.GrpcChannel.ForAddress(Address);
        var metadata = new Grpc.Core.Metadata();
        if (apiKey is not null)
        {
            metadata.Add("authorization", $"Bearer {apiKey}");
        }

        return new Tuner.Api.V1.Tuner.TunerClient(Grpc.Core.Interceptors.CallInvokerExtensions.Intercept(channel.CreateCallInvoker(), m =>
        {
            foreach (var entry in metadata)
            {
                m.Add(entry);
            }

            return m;
        }));
    }

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        await _tuner.DisposeAsync();
        try
        {
            Directory.Delete(OutputRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static TunerApiOptions Copy(TunerApiOptions o, List<string> urls) => new()
    {
        Urls = urls,
        ApiKeys = o.ApiKeys,
        RequireApiKeys = o.RequireApiKeys,
        CertificatePath = o.CertificatePath,
        CertificatePassword = o.CertificatePassword,
        CertificateKeyPath = o.CertificateKeyPath,
        MaxMessageBytes = o.MaxMessageBytes,
        MaxSpecBytes = o.MaxSpecBytes,
        MaxTrialsPerExperiment = o.MaxTrialsPerExperiment,
        OutputRoot = o.OutputRoot,
    };
}

/// <summary>Every log line written, with its exception, for checking what operators would see.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}

/// <summary>Polls a condition until it holds or the deadline passes: never a fixed sleep.</summary>
internal static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T>> get, Func<T, bool> until, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = TimeProvider.System.GetTimestamp();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        while (true)
        {
            var value = await get();
            if (until(value))
            {
                return value;
            }

            if (TimeProvider.System.GetElapsedTime(deadline) > limit)
            {
                throw new TimeoutException($"{what ?? "the condition"} did not hold within {limit.TotalSeconds} s; last value: {value}");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
