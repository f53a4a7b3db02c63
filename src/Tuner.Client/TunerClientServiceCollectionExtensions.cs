using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Tuner.Client;

public static class TunerClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ITunerClient"/>: a <see cref="TunerClient"/> of the configured server. (A whole
    /// cluster in this process instead: <c>AddEmbeddedTunerClient</c> of Tuner.Embedded.)
    /// </summary>
    public static IServiceCollection AddTunerClient(this IServiceCollection services, Action<TunerClientOptions>? configure = null)
    {
        var options = new TunerClientOptions { ApiKey = Environment.GetEnvironmentVariable("TUNER_API_KEY") };
        configure?.Invoke(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton<ITunerClient>(_ => new TunerClient(options));
        return services;
    }

    /// <summary>As above, from a configuration section (Address, ApiKey, MaxAttempts, ...), by default <c>Tuner:Client</c>.</summary>
    public static IServiceCollection AddTunerClient(this IServiceCollection services, IConfiguration configuration, string section = "Tuner:Client") =>
        services.AddTunerClient(o => configuration.GetSection(section).Bind(o));
}
