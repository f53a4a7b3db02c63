namespace Tuner.Hosting;

/// <summary>
/// Telemetry settings of our own (configuration section <c>Tuner:Telemetry</c>); where OTLP goes is the
/// standard <c>OTEL_*</c> variables' business.
/// </summary>
public sealed class TunerTelemetryOptions
{
    public const string Section = "Tuner:Telemetry";

    /// <summary>Send metrics over OTLP too (off where Prometheus scrapes the host, so nothing is counted twice).</summary>
    public bool OtlpMetrics { get; set; } = true;

    /// <summary>A worker's Prometheus scrape port (<c>/metrics</c>); none by default. The scheduler serves /metrics on its monitoring addresses.</summary>
    public int? PrometheusPort { get; set; }

    /// <summary>The host name the worker's scrape endpoint answers to: localhost by default, <c>+</c> for any.</summary>
    public string PrometheusHost { get; set; } = "localhost";
}
