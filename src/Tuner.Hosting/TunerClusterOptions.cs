using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Tuner.Hosting;

/// <summary>
/// How a silo joins the cluster; configuration section <c>Tuner:Cluster</c> (environment
/// <c>Tuner__Cluster__Redis=redis:6379</c>, <c>Tuner__Cluster__ClusterId=...</c>, ...). With <see cref="Redis"/>
/// set, membership lives in Redis and silos find each other wherever they run; without it, the silos
/// of one machine form a development cluster around the scheduler's silo port.
/// </summary>
public sealed class TunerClusterOptions : ISelfValidatingOptions
{
    public const string Section = "Tuner:Cluster";

    public string ClusterId { get; set; } = "tuner-dev";

    public string ServiceId { get; set; } = "tuner";

    /// <summary>A StackExchange.Redis connection string (<c>host:port[,password=...]</c>); empty: the development cluster.</summary>
    public string? Redis { get; set; }

    /// <summary>The port silos talk on; 0 picks a free one (workers).</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port clients connect to; 0 picks a free one.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Development cluster only: the scheduler silo's port, which the others join.</summary>
    public int PrimarySiloPort { get; set; } = 11111;

    /// <summary>The address other silos reach this one at; default: loopback for the development cluster, else this host's first IPv4 address.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Every problem of these settings, each naming its setting.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (var (name, value) in new[] { ("ClusterId", ClusterId), ("ServiceId", ServiceId) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                problems.Add($"{Section}:{name}: must not be empty");
            }
        }

        foreach (var (name, port) in new[] { ("SiloPort", SiloPort), ("GatewayPort", GatewayPort), ("PrimarySiloPort", PrimarySiloPort) })
        {
            if (port is < 0 or > 65535)
            {
                problems.Add($"{Section}:{name}: {port} is not a port (0 to 65535; 0 picks a free one)");
            }
        }

        return problems;
    }

    /// <summary>The options of section <see cref="Section"/> over this host's default ports (read while the silo is built: they choose its clustering).</summary>
    public static TunerClusterOptions From(IConfiguration configuration, int defaultSiloPort, int defaultGatewayPort)
    {
        var options = new TunerClusterOptions { SiloPort = defaultSiloPort, GatewayPort = defaultGatewayPort };
        configuration.GetSection(Section).Bind(options);
        return options;
    }
}

public static class TunerClusterExtensions
{
    /// <summary>Joins the cluster the options describe.</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">A setting is invalid; every problem names its setting.</exception>
    public static ISiloBuilder UseTunerCluster(this ISiloBuilder silo, TunerClusterOptions options)
    {
        if (options.Problems() is { Count: > 0 } problems)
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(TunerClusterOptions.Section, typeof(TunerClusterOptions), problems);
        }

        // The caller's span goes with every grain call (a trial's dispatch reaches its worker this way).
        silo.AddActivityPropagation();
        var siloPort = options.SiloPort == 0 ? FreePort() : options.SiloPort;
        var gatewayPort = options.GatewayPort == 0 ? FreePort() : options.GatewayPort;
        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            // The control plane's small records (which experiments exist, where their run folders are) live with the silo.
            silo.AddMemoryGrainStorage(TunerStorage.Name);
            return silo.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, options.PrimarySiloPort), options.ServiceId, options.ClusterId);
        }

        silo.UseRedisClustering(options.Redis);

        // Where each grain is active is recorded in Redis too, not in a hash ring spread over the silos:
        // a killed worker silo then takes no record of the control plane's grains with it (the ring
        // would deactivate every grain whose entry that silo held, losing their state).
        var redis = options.Redis;
        silo.UseRedisGrainDirectoryAsDefault(d => d.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));

        // The control plane's records (which experiments exist and run, where their run folders and
        // journals are) in Redis too: a restarted scheduler silo finds them and restores each experiment.
        silo.AddRedisGrainStorage(TunerStorage.Name, s => s.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
        silo.Configure<ClusterOptions>(c =>
        {
            c.ClusterId = options.ClusterId;
            c.ServiceId = options.ServiceId;
        });
        var advertised = options.AdvertisedAddress is { Length: > 0 } text
            ? IPAddress.TryParse(text, out var ip) ? ip : Dns.GetHostAddresses(text).First(a => a.AddressFamily == AddressFamily.InterNetwork)
            : HostAddress();
        silo.ConfigureEndpoints(advertised, siloPort, gatewayPort, listenOnAnyHostAddress: true);
        return silo;
    }

    private static IPAddress HostAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
        ?? IPAddress.Loopback;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The grain storage provider the control plane's records use: Redis in a cluster, memory otherwise.</summary>
public static class TunerStorage
{
    public const string Name = "tuner";
}
