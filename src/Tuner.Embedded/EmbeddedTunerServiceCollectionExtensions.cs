using Tuner.Core.Experiments;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tuner.Abstractions.Messages;
using Tuner.Client;
using Tuner.Core.Spec;

namespace Tuner.Embedded;

public static class EmbeddedTunerServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ITunerClient"/> as a whole cluster in this process (<see cref="EmbeddedTuner"/>),
    /// started by the first call and stopped with the container: the same calls as a
    /// <see cref="TunerClient"/> of a server, with no server.
    /// </summary>
    public static IServiceCollection AddEmbeddedTunerClient(this IServiceCollection services, Action<EmbeddedTunerOptions>? configure = null)
    {
        var options = new EmbeddedTunerOptions();
        configure?.Invoke(options);
        services.TryAddSingleton<ITunerClient>(_ => new LazyEmbeddedClient(options));
        return services;
    }

    /// <summary>The embedded cluster behind <see cref="ITunerClient"/>, started by the first call.</summary>
    private sealed class LazyEmbeddedClient(EmbeddedTunerOptions settings) : ITunerClient, IAsyncDisposable
    {
        private readonly Lazy<Task<EmbeddedTuner>> _tuner = new(() => EmbeddedTuner.StartAsync(settings));

        private async Task<ITunerClient> Client() => (await _tuner.Value.ConfigureAwait(false)).Client;

        public async Task<ExperimentSnapshot> SubmitAsync(ExperimentSpec spec, SubmitOptions? options = null, CancellationToken cancellationToken = default) =>
            await (await Client()).SubmitAsync(spec, options, cancellationToken);

        public async Task<ExperimentSnapshot> GetAsync(string experimentId, int maxTrials = 20, CancellationToken cancellationToken = default) =>
            await (await Client()).GetAsync(experimentId, maxTrials, cancellationToken);

        public async Task<IReadOnlyList<ExperimentSnapshot>> ListAsync(CancellationToken cancellationToken = default) =>
            await (await Client()).ListAsync(cancellationToken);

        public async IAsyncEnumerable<ExperimentEvent> WatchAsync(string experimentId, long afterPosition = 0, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var e in (await Client()).WatchAsync(experimentId, afterPosition, cancellationToken))
            {
                yield return e;
            }
        }

        public async Task<ExperimentSnapshot> StopAsync(string experimentId, string? reason = null, CancellationToken cancellationToken = default) =>
            await (await Client()).StopAsync(experimentId, reason, cancellationToken);

        public async Task<ExperimentSnapshot> ResumeAsync(string experimentId, CancellationToken cancellationToken = default) =>
            await (await Client()).ResumeAsync(experimentId, cancellationToken);

        public async Task<ExperimentSnapshot> ExtendAsync(string experimentId, int samples, CancellationToken cancellationToken = default) =>
            await (await Client()).ExtendAsync(experimentId, samples, cancellationToken);

        public async Task<IReadOnlyList<TrialRow>> ListTrialsAsync(string experimentId, CancellationToken cancellationToken = default) =>
            await (await Client()).ListTrialsAsync(experimentId, cancellationToken);

        public async Task<TrialInfo> GetTrialAsync(string experimentId, string trialId, CancellationToken cancellationToken = default) =>
            await (await Client()).GetTrialAsync(experimentId, trialId, cancellationToken);

        public async Task<TrialInfo> StopTrialAsync(string experimentId, string trialId, string? reason = null, CancellationToken cancellationToken = default) =>
            await (await Client()).StopTrialAsync(experimentId, trialId, reason, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            if (_tuner.IsValueCreated)
            {
                await (await _tuner.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
