using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tuner.Abstractions.Grains;
using Tuner.Core.Trainables;
using Tuner.Hosting;

namespace Tuner.Scheduler.Hosting;

public static class ControlPlaneExtensions
{
    /// <summary>
    /// Adds what the experiment, trial and resource scheduler grains need. The grains themselves are
    /// found by Orleans in this assembly.
    /// </summary>
    public static ISiloBuilder AddTunerControlPlane(this ISiloBuilder silo, Action<ResourceSchedulerOptions>? configure = null)
    {
        silo.Services.AddValidatedOptions(configure);
        silo.UseTrialSizedDirectoryCache();
        silo.Services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<ResourceSchedulerOptions>>().Value);
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.TryAddSingleton(_ => TrainableRegistry.CreateDefault());
        silo.Services.TryAddSingleton<Tuner.Core.Checkpoints.ICheckpointStore, Tuner.Core.Checkpoints.SharedFolderCheckpointStore>();
        if (!silo.Services.Any(d => d.IsKeyedService && Equals(d.ServiceKey, TunerStorage.Name)))
        {
            // No cluster store configured (the embedded mode, tests): the records live in memory; the
            // run folders' journals are what survives a kill there.
            silo.AddMemoryGrainStorage(TunerStorage.Name);
        }

        // After a restart, experiments that were running come back from their journals without waiting
        // for a client: each is activated (in the background; the silo does not wait for them).
        silo.AddStartupTask(static async (services, _) =>
        {
            var grains = services.GetRequiredService<IGrainFactory>();
            foreach (var id in await grains.GetGrain<IExperimentRegistryGrain>(IExperimentRegistryGrain.ClusterKey).ListRunningAsync())
            {
                // A failure is the experiment grain's to log (it says which folder and why).
                grains.GetGrain<IExperimentGrain>(id).GetSpecAsync().Ignore();
            }
        });
        return silo;
    }
}

/// <summary>How the resource scheduler tells a live worker from a lost one (configuration section <c>Tuner:Scheduler</c>).</summary>
public sealed class ResourceSchedulerOptions : ISelfValidatingOptions
{
    public const string Section = "Tuner:Scheduler";

    /// <summary>A worker not heard from for this long is lost; its trials are retried elsewhere. Keep it a few heartbeats long.</summary>
    public TimeSpan WorkerLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often leases are checked.</summary>
    public TimeSpan LeaseCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    public IReadOnlyList<string> Problems() =>
    [
        .. WorkerLease <= TimeSpan.Zero ? [$"{Section}:WorkerLease: must be positive, a few heartbeats long (e.g. 00:00:30); it is {WorkerLease}"] : Array.Empty<string>(),
        .. LeaseCheckInterval <= TimeSpan.Zero ? [$"{Section}:LeaseCheckInterval: must be positive (e.g. 00:00:01); it is {LeaseCheckInterval}"] : Array.Empty<string>(),
    ];
}
