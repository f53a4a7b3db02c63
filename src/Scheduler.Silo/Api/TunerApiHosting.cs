using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tuner.Abstractions.Grains;
using Tuner.Core.Trainables;

namespace Tuner.Scheduler.Api;

public static class TunerApiHosting
{
    /// <summary>
    /// The tuner.v1 service, gRPC health (a check that the cluster answers) and reflection, with the
    /// key interceptor and the size limits. Throws, naming each setting, when the options would expose the service.
    /// </summary>
    public static IServiceCollection AddTunerApi(this IServiceCollection services, TunerApiOptions options)
    {
        if (options.Problems() is { Count: > 0 } problems)
        {
            throw new InvalidOperationException("the API settings are not safe to serve:\n  " + string.Join("\n  ", problems));
        }

        services.AddSingleton(Options.Create(options));
        return services.AddTunerApi();
    }

    /// <summary>
    /// As above, with the options the container has (<c>AddValidatedOptions&lt;TunerApiOptions&gt;</c>: bound from
    /// <see cref="TunerApiOptions.Section"/> and refused when the host starts, naming each setting).
    /// </summary>
    public static IServiceCollection AddTunerApi(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<TunerApiOptions>>().Value);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => TrainableRegistry.CreateDefault());
        services.AddSingleton<ApiKeyInterceptor>();
        services.AddGrpc(o =>
        {
            o.Interceptors.Add<ApiKeyInterceptor>();
            o.MaxSendMessageSize = null;
            o.EnableDetailedErrors = false;
        });
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions>().Configure<IOptions<TunerApiOptions>>((grpc, api) => grpc.MaxReceiveMessageSize = api.Value.MaxMessageBytes);
        services.AddGrpcHealthChecks().AddCheck<ClusterHealthCheck>("cluster");
        services.AddGrpcReflection();
        return services;
    }

    public static IEndpointRouteBuilder MapTunerApi(this IEndpointRouteBuilder app)
    {
        app.MapGrpcService<TunerService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }

    /// <summary>The IP addresses a listening URL's host names (localhost is loopback; a name is resolved).</summary>
    internal static IPAddress[] Addresses(Uri url)
    {
        var host = url.Host.Trim('[', ']');
        return host == "localhost" ? [IPAddress.Loopback]
            : IPAddress.TryParse(host, out var ip) ? [ip]
            : Dns.GetHostAddresses(host);
    }

    /// <summary>Listens on the configured addresses: HTTP/2 without TLS on http (loopback only), TLS with the configured certificate on https.</summary>
    public static void ListenOn(this KestrelServerOptions kestrel, TunerApiOptions options)
    {
        X509Certificate2? certificate = null;
        foreach (var url in options.ParsedUrls())
        {
            foreach (var address in Addresses(url))
            {
                kestrel.Listen(address, url.Port, listen =>
                {
                    if (url.Scheme == "https")
                    {
                        certificate ??= LoadCertificate(options);
                        listen.Protocols = HttpProtocols.Http1AndHttp2;
                        listen.UseHttps(certificate);
                    }
                    else
                    {
                        listen.Protocols = HttpProtocols.Http2;
                    }
                });
            }
        }
    }

    private static X509Certificate2 LoadCertificate(TunerApiOptions options) =>
        options.CertificateKeyPath is { Length: > 0 } key
            ? X509Certificate2.CreateFromPemFile(options.CertificatePath!, key)
            : X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath!, options.CertificatePassword);

    /// <summary>
    /// Serves the API in a web host of its own over an existing cluster connection (a silo's or a
    /// client's grain factory): a front end that can be restarted while the silo keeps running.
    /// </summary>
    public static async Task<TunerApiServer> StartAsync(IGrainFactory grains, TunerApiOptions options, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.Services.AddSingleton(grains);
        builder.Services.AddTunerApi(options);
        builder.WebHost.ConfigureKestrel(k => k.ListenOn(options));
        var app = builder.Build();
        app.MapTunerApi();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return new TunerApiServer(app);
    }
}

/// <summary>The API's web host: its addresses, stopped when disposed.</summary>
public sealed class TunerApiServer(WebApplication app) : IAsyncDisposable
{
    /// <summary>The addresses it listens on, with the ports bound (for port 0).</summary>
    public IReadOnlyList<Uri> Addresses { get; } = [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a))];

    public IServiceProvider Services => app.Services;

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>Healthy while the cluster answers: the experiment registry grain is reachable.</summary>
public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await grains.GetGrain<IExperimentRegistryGrain>(IExperimentRegistryGrain.ClusterKey).ContainsAsync(string.Empty).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("the cluster does not answer", ex);
        }
    }
}
