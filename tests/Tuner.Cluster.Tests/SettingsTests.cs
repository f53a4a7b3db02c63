using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Tuner.Hosting;
using Tuner.Scheduler.Api;
using Tuner.Scheduler.Hosting;
using Tuner.Scheduler.Monitoring;
using Tuner.Tests;
using Tuner.Worker;

namespace Tuner.Cluster.Tests;

/// <summary>Settings go through the options system, validated when a host starts: a bad one stops it, naming the setting.</summary>
public sealed class SettingsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IHost Host(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddValidatedOptions<TunerApiOptions>(TunerApiOptions.Section).PostConfigure(o => o.UseConfiguredUrls(builder.Configuration));
        builder.Services.AddValidatedOptions<MonitoringOptions>(MonitoringOptions.Section);
        builder.Services.AddValidatedOptions<ResourceSchedulerOptions>(ResourceSchedulerOptions.Section);
        builder.Services.AddValidatedOptions<WorkerOptions>(WorkerOptions.Section);
        return builder.Build();
    }

    [Fact]
    public async Task AHostWithBadSettings_DoesNotStart_AndEveryProblemNamesItsSetting()
    {
        using var host = Host(new()
        {
            ["Tuner:Api:Urls:0"] = "http://0.0.0.0:5080",
            ["Tuner:Monitoring:Urls:0"] = "https://127.0.0.1:5081",
            ["Tuner:Scheduler:WorkerLease"] = "00:00:00",
            ["Worker:HeartbeatInterval"] = "-00:00:01",
            ["Worker:CpuSlots"] = "-2",
        });

        // The start refuses every options type that fails, each with all its problems.
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Ct));
        var all = ValidatedOptionsExtensions.Failures(ex);
        Assert.Equal(6, all.Count);
        Assert.Contains("Tuner:Api:Urls: 'http://0.0.0.0:5080/' is not loopback, so it must be https (TLS) with Tuner:Api:CertificatePath", all);
        Assert.Contains(all, p => p.StartsWith("Tuner:Api:ApiKeys: at least one key is required", StringComparison.Ordinal));
        Assert.Contains("Tuner:Monitoring:Urls: 'https://127.0.0.1:5081' is not an http address (monitoring is plain HTTP, e.g. http://127.0.0.1:5081)", all);
        Assert.Contains("Tuner:Scheduler:WorkerLease: must be positive, a few heartbeats long (e.g. 00:00:30); it is 00:00:00", all);
        Assert.Contains("Worker:HeartbeatInterval: must be positive (it is -00:00:01)", all);
        Assert.Contains("Worker:CpuSlots: must be 0 or more (it is -2)", all);
    }

    [Fact]
    public async Task GoodSettings_AreBound_AndConfiguredAddressesReplaceTheDefault()
    {
        using var host = Host(new()
        {
            ["Tuner:Api:Urls:0"] = "http://127.0.0.1:6080",
            ["Tuner:Scheduler:WorkerLease"] = "00:00:07",
            ["Worker:CpuSlots"] = "3",
        });

        await host.StartAsync(Ct);

        Assert.Equal(["http://127.0.0.1:6080"], host.Services.GetRequiredService<IOptions<TunerApiOptions>>().Value.Urls);
        Assert.Equal(["http://127.0.0.1:5081"], host.Services.GetRequiredService<IOptions<MonitoringOptions>>().Value.Urls);
        Assert.Equal(TimeSpan.FromSeconds(7), host.Services.GetRequiredService<IOptions<ResourceSchedulerOptions>>().Value.WorkerLease);
        Assert.Equal(3, host.Services.GetRequiredService<IOptions<WorkerOptions>>().Value.CpuSlots);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task TheSilos_RefuseBadSettings_WithExitCode2_NamingEachSetting()
    {
        var (code, output) = await RunAsync("Scheduler.Silo", "--Tuner:Api:Urls:0=http://0.0.0.0:5080", "--Tuner:Cluster:SiloPort=0", "--Tuner:Cluster:GatewayPort=0");
        Assert.Equal(2, code);
        Assert.Contains("error: invalid settings:", output, StringComparison.Ordinal);
        Assert.Contains("Tuner:Api:Urls: 'http://0.0.0.0:5080/' is not loopback, so it must be https", output, StringComparison.Ordinal);

        (code, output) = await RunAsync("TrialWorker", "--Worker:HeartbeatInterval=00:00:00", "--Tuner:Cluster:SiloPort=0");
        Assert.Equal(2, code);
        Assert.Contains("Worker:HeartbeatInterval: must be positive (it is 00:00:00)", output, StringComparison.Ordinal);

        (code, output) = await RunAsync("TrialWorker", "--Tuner:Cluster:SiloPort=70000");
        Assert.Equal(2, code);
        Assert.Contains("Tuner:Cluster:SiloPort: 70000 is not a port (0 to 65535; 0 picks a free one)", output, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> RunAsync(string project, params string[] arguments)
    {
        var (code, output, error) = await ProgramRun.RunAsync("dotnet", ["exec", LocalCluster.Built(project), .. arguments], TimeSpan.FromSeconds(60), Ct);
        return (code, output + error);
    }
}
