using System.Net;
using Microsoft.Extensions.Configuration;

namespace Tuner.Scheduler.Api;

/// <summary>
/// Where the tuner.v1 API listens and who may call it; configuration section <c>Tuner:Api</c>
/// (environment: <c>Tuner__Api__Urls__0</c>, <c>Tuner__Api__ApiKeys__0__Key</c>, ...).
/// </summary>
public sealed class TunerApiOptions : Tuner.Hosting.ISelfValidatingOptions
{
    public const string Section = "Tuner:Api";

    /// <summary>Configured addresses replace the default one (binding a list would add to it).</summary>
    public void UseConfiguredUrls(IConfiguration configuration) => Urls = Hosting.ConfiguredAddresses.Read(configuration.GetSection(Section)) ?? Urls;

    /// <summary>Addresses to listen on. Bound only to loopback (the default), no key is needed; any other address needs keys and TLS.</summary>
    public List<string> Urls { get; set; } = ["http://127.0.0.1:5080"];

    /// <summary>Bearer tokens and their roles. <c>user</c> submits and steers experiments of registered trainables; <c>admin</c> may also upload code and run custom trainables.</summary>
    public List<ApiKey> ApiKeys { get; set; } = [];

    /// <summary>Require a key even on loopback (keys are always required on other addresses).</summary>
    public bool RequireApiKeys { get; set; }

    /// <summary>The TLS certificate for https addresses: a PFX file (with <see cref="CertificatePassword"/>) or a PEM certificate with <see cref="CertificateKeyPath"/>.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    public string? CertificateKeyPath { get; set; }

    /// <summary>The largest request accepted, code uploads included (RESOURCE_EXHAUSTED above it).</summary>
    public int MaxMessageBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>The largest spec accepted, in UTF-8 bytes.</summary>
    public int MaxSpecBytes { get; set; } = 256 * 1024;

    /// <summary>The most trials one experiment may create (its samples, times the grid, times repeat).</summary>
    public long MaxTrialsPerExperiment { get; set; } = 100_000;

    /// <summary>Where experiments submitted through the API write their results; uploaded code goes under its <c>.code</c> folder.</summary>
    public string OutputRoot { get; set; } = "runs";

    /// <summary>True when calls must carry a key: any address is not loopback, or <see cref="RequireApiKeys"/>.</summary>
    public bool KeysRequired => RequireApiKeys || ParsedUrls().Any(u => !IsLoopback(u));

    public IReadOnlyList<Uri> ParsedUrls() => [.. Urls.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri : throw new InvalidOperationException($"{Section}:Urls: '{u}' is not an absolute URL such as http://127.0.0.1:5080"))];

    /// <summary>Refuses settings that would expose the service: every problem, named by its setting.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        IReadOnlyList<Uri> urls;
        try
        {
            urls = ParsedUrls();
        }
        catch (InvalidOperationException ex)
        {
            return [ex.Message];
        }

        if (urls.Count == 0)
        {
            problems.Add($"{Section}:Urls: give at least one address, e.g. http://127.0.0.1:5080");
        }

        foreach (var url in urls)
        {
            if (url.Scheme is not ("http" or "https"))
            {
                problems.Add($"{Section}:Urls: '{url}' must be http or https");
            }
            else if (!IsLoopback(url) && url.Scheme != "https")
            {
                problems.Add($"{Section}:Urls: '{url}' is not loopback, so it must be https (TLS) with {Section}:CertificatePath");
            }

            if (url.Scheme == "https" && string.IsNullOrEmpty(CertificatePath))
            {
                problems.Add($"{Section}:CertificatePath: required for '{url}'");
            }
        }

        if (KeysRequired && !ApiKeys.Any(k => !string.IsNullOrEmpty(k.Key)))
        {
            problems.Add($"{Section}:ApiKeys: at least one key is required when the service listens beyond loopback ({string.Join(", ", urls.Where(u => !IsLoopback(u)))}) or RequireApiKeys is set");
        }

        foreach (var (key, i) in ApiKeys.Select((k, i) => (k, i)))
        {
            if (string.IsNullOrEmpty(key.Key) || key.Key.Length < 16)
            {
                problems.Add($"{Section}:ApiKeys:{i}:Key: must be at least 16 characters");
            }

            if (key.Role is not ("user" or "admin"))
            {
                problems.Add($"{Section}:ApiKeys:{i}:Role: '{key.Role}' is not one of the allowed values: user, admin");
            }
        }

        if (!string.IsNullOrEmpty(CertificatePath) && !File.Exists(CertificatePath))
        {
            problems.Add($"{Section}:CertificatePath: '{CertificatePath}' does not exist");
        }

        if (MaxMessageBytes < 1024 || MaxSpecBytes < 1024 || MaxTrialsPerExperiment < 1)
        {
            problems.Add($"{Section}: MaxMessageBytes and MaxSpecBytes must be at least 1024, MaxTrialsPerExperiment at least 1");
        }

        return problems;
    }

    public static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}

/// <summary>One API key: its secret, a name for operators (never the key itself in logs), and its role (user or admin).</summary>
public sealed class ApiKey
{
    public string Name { get; set; } = "key";

    public string Key { get; set; } = string.Empty;

    public string Role { get; set; } = "user";
}
