using Microsoft.Extensions.Configuration;
namespace Tuner.Scheduler.Monitoring;

/// <summary>
/// Where the scheduler serves what operators watch (configuration section <c>Tuner:Monitoring</c>): the
/// live page (<c>/</c>, its data at <c>/api/live</c>), the Prometheus scrape endpoint (<c>/metrics</c>) and
/// the Orleans dashboard (<c>/dashboard</c>). Plain HTTP and read-only, on addresses of its own, apart from
/// the API and its keys, as Ray's dashboard is; loopback by default.
/// </summary>
public sealed class MonitoringOptions
{
    public const string Section = "Tuner:Monitoring";

    /// <summary>The options of section <see cref="Section"/>; configured addresses replace the default one.</summary>
    public static MonitoringOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var options = section.Get<MonitoringOptions>() ?? new MonitoringOptions();
        options.Urls = Hosting.ConfiguredAddresses.Read(section) ?? options.Urls;
        return options;
    }

    /// <summary>http addresses to listen on; empty turns monitoring off.</summary>
    public List<string> Urls { get; set; } = ["http://127.0.0.1:5081"];

    /// <summary>How many of the newest experiments the live page shows.</summary>
    public int Experiments { get; set; } = 20;

    /// <summary>How many trials per experiment the live page lists (running ones first).</summary>
    public int TrialsPerExperiment { get; set; } = 200;

    public IReadOnlyList<Uri> ParsedUrls() =>
        [.. Urls.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme == "http"
            ? uri
            : throw new InvalidOperationException($"{Section}:Urls: '{u}' is not an http address (monitoring is plain HTTP, e.g. http://127.0.0.1:5081)"))];
}
