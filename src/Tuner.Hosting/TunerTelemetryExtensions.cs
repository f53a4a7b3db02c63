using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Tuner.Core.Telemetry;

namespace Tuner.Hosting;

/// <summary>
/// OpenTelemetry for a Tuner host: the product's spans (<see cref="TunerTelemetry.Source"/>, and Orleans'
/// grain-call spans, whose activity propagation links a trial's scheduler and worker), its metrics
/// (<see cref="TunerTelemetry.Meter"/>) and its logs, exported over OTLP when the standard variables
/// say where (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_SERVICE_NAME</c>,
/// <c>OTEL_METRIC_EXPORT_INTERVAL</c>, ...). Logs carry the trace and span ids of the span they are
/// written in, in every logger (console included).
/// </summary>
public static class TunerTelemetryExtensions
{
    /// <summary>True when an OTLP endpoint is configured (for all signals or one of them).</summary>
    public static bool HasOtlpEndpoint(IConfiguration configuration) =>
        new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT" }
            .Any(key => !string.IsNullOrWhiteSpace(configuration[key]));

    /// <param name="serviceName">The service's name unless <c>OTEL_SERVICE_NAME</c> says otherwise.</param>
    /// <param name="metrics">More metric readers (the scheduler's Prometheus endpoint); metrics are collected when this or OTLP is set.</param>
    /// <param name="tracing">More span sources (the scheduler's ASP.NET Core requests).</param>
    public static IServiceCollection AddTunerTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName, Action<MeterProviderBuilder>? metrics = null, Action<TracerProviderBuilder>? tracing = null)
    {
        services.Configure<LoggerFactoryOptions>(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        var otlp = HasOtlpEndpoint(configuration);

        // The scheduler's metrics may be scraped from its Prometheus endpoint instead (Tuner:Telemetry:OtlpMetrics=false), so they are not counted twice.
        var settings = configuration.GetSection(TunerTelemetryOptions.Section).Get<TunerTelemetryOptions>() ?? new TunerTelemetryOptions();
        var otlpMetrics = otlp && settings.OtlpMetrics;
        if (!otlp && metrics is null)
        {
            return services;
        }

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : serviceName, serviceNamespace: "tuner"));
        if (otlpMetrics || metrics is not null)
        {
            telemetry.WithMetrics(m =>
            {
                m.AddMeter(TunerTelemetry.Name);
                if (otlpMetrics)
                {
                    m.AddOtlpExporter();
                }

                metrics?.Invoke(m);
            });
        }

        if (otlp)
        {
            telemetry.WithTracing(t =>
            {
                t.AddSource(TunerTelemetry.Name, Orleans.Diagnostics.ActivitySources.ApplicationGrainActivitySourceName).AddOtlpExporter();
                tracing?.Invoke(t);
            });
            telemetry.WithLogging(l => l.AddOtlpExporter(), o => o.IncludeScopes = true);
        }

        return services;
    }
}
