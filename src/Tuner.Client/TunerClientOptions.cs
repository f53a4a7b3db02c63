namespace Tuner.Client;

/// <summary>Where a <see cref="TunerClient"/> connects and how it behaves; configuration section <c>Tuner:Client</c>.</summary>
public sealed class TunerClientOptions
{
    /// <summary>The Scheduler.Silo's API address: http on loopback, https elsewhere.</summary>
    public Uri Address { get; set; } = new("http://127.0.0.1:5080");

    /// <summary>The bearer token, when the service requires one (environment: <c>TUNER_API_KEY</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>How many attempts a call gets when the service is unavailable (gRPC's retry policy; backoff up to 0.5 s doubling to 5 s).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How long a watch keeps reconnecting after the stream breaks before giving up.</summary>
    public TimeSpan ReconnectFor { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A handler of one's own, e.g. to trust a self-signed certificate; the client does not dispose it.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }
}
