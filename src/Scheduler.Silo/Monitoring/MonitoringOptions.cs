using Microsoft.Extensions.Configuration;
namespace Tuner.Scheduler.Monitoring;

/// <summary>
/// Where the scheduler serves what operators watch (configuration section <c>Tuner:Monitoring</c>): the
/// live page (<c>/</c>, its data at <c>/api/live</c>), the Prometheus scrape endpoint (<c>/metrics</c>) and
/// the Orleans dashboard (<c>/dashboard</c>). Plain HTTP and read-only, on addresses of its own, apart from
/// the API and its keys, as Ray's dashboard is; loopback by default.
/// </summary>
public sealed class MonitoringOptions : Tuner.Hosting.ISelfValidatingOptions
{
    public const string Section = "Tuner:Monitoring";

    /// <summary>Configured addresses replace the default one (binding a list would add to it).</summary>
    public void UseConfiguredUrls(IConfiguration configuration) => Urls = Hosting.ConfiguredAddresses.Read(configuration.GetSection(Section)) ?? Urls;

    /// <summary>http addresses to listen on; empty turns monitoring off.</summary>
    public List<string> Urls { get; set; } = ["http://127.0.0.1:5081"];

    /// <summary>How many of the newest experiments the live page shows.</summary>
    public int Experiments { get; set; } = 20;

    /// <summary>How many trials per experiment the live page lists (running ones first).</summary>
    public int TrialsPerExperiment { get; set; } = 200;

    /// <summary>Every problem of these settings, each naming its setting.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        try
        {
            ParsedUrls();
        }
        catch (InvalidOperationException ex)
        {
            problems.Add(ex.Message);
        }

        if (Experiments < 1)
        {
            problems.Add($"{Section}:Experiments: must be at least 1 (it is {Experiments})");
        }

        if (TrialsPerExperiment < 1)
        {
            problems.Add($"{Section}:TrialsPerExperiment: must be at least 1 (it is {TrialsPerExperiment})");
        }

        return problems;
    }

    public IReadOnlyList<Uri> ParsedUrls() =>
        [.. Urls.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme == "http"
            ? uri
            : throw new InvalidOperationException($"{Section}:Urls: '{u}' is not an http address (monitoring is plain HTTP, e.g. http://127.0.0.1:5081)"))];
}
