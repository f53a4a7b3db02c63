using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tuner.Observability.Tests.Otlp;

/// <summary>
/// An OTLP/HTTP receiver (protobuf bodies on <c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>) on a
/// loopback port, as a collector would be: every request is parsed and kept.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public ConcurrentQueue<ExportTraceServiceRequest> Traces { get; } = new();

    public ConcurrentQueue<ExportMetricsServiceRequest> Metrics { get; } = new();

    public ConcurrentQueue<ExportLogsServiceRequest> Logs { get; } = new();

    public ConcurrentQueue<string> Unexpected { get; } = new();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        OtlpReceiver? receiver = null;
        app.MapPost("/v1/traces", async (HttpRequest request) => await Receive(request, ExportTraceServiceRequest.Parser, r => receiver!.Traces.Enqueue(r)));
        app.MapPost("/v1/metrics", async (HttpRequest request) => await Receive(request, ExportMetricsServiceRequest.Parser, r => receiver!.Metrics.Enqueue(r)));
        app.MapPost("/v1/logs", async (HttpRequest request) => await Receive(request, ExportLogsServiceRequest.Parser, r => receiver!.Logs.Enqueue(r)));
        app.MapFallback((HttpContext context) =>
        {
            receiver!.Unexpected.Enqueue($"{context.Request.Method} {context.Request.Path}");
            return Results.NotFound();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver = new OtlpReceiver(app, new Uri(address));
        return receiver;
    }

    private static async Task<IResult> Receive<T>(HttpRequest request, MessageParser<T> parser, Action<T> keep)
        where T : IMessage<T>
    {
        if (request.ContentType != "application/x-protobuf")
        {
            return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        }

        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        keep(parser.ParseFrom(body.ToArray()));

        // An empty Export*ServiceResponse: everything accepted.
        return Results.Bytes([], "application/x-protobuf");
    }

    public IEnumerable<(Resource Resource, Span Span)> Spans() =>
        Traces.SelectMany(t => t.ResourceSpans).SelectMany(r => r.ScopeSpans.SelectMany(s => s.Spans).Select(span => (r.Resource, span)));

    public IEnumerable<Metric> MetricsNamed(string name) =>
        Metrics.SelectMany(m => m.ResourceMetrics).SelectMany(r => r.ScopeMetrics).SelectMany(s => s.Metrics).Where(m => m.Name == name);

    public IEnumerable<LogRecord> LogRecords() =>
        Logs.SelectMany(l => l.ResourceLogs).SelectMany(r => r.ScopeLogs).SelectMany(s => s.LogRecords);

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}

internal static class OtlpExtensions
{
    public static string? Attribute(this IEnumerable<KeyValue> attributes, string key) =>
        attributes.FirstOrDefault(a => a.Key == key)?.Value switch
        {
            null => null,
            { ValueCase: AnyValue.ValueOneofCase.StringValue } v => v.StringValue,
            { ValueCase: AnyValue.ValueOneofCase.IntValue } v => v.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            { ValueCase: AnyValue.ValueOneofCase.DoubleValue } v => v.DoubleValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            { ValueCase: AnyValue.ValueOneofCase.BoolValue } v => v.BoolValue ? "true" : "false",
            _ => null,
        };

    public static string Hex(this ByteString bytes) => Convert.ToHexStringLower(bytes.Span);
}
