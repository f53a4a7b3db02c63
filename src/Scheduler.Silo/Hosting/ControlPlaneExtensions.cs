using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tuner.Core.Trainables;

namespace Tuner.Scheduler.Hosting;

public static class ControlPlaneExtensions
{
    /// <summary>
    /// Adds what the experiment, trial and resource scheduler grains need. The grains themselves are
    /// found by Orleans in this assembly.
    /// </summary>
    public static ISiloBuilder AddTunerControlPlane(this ISiloBuilder silo, Action<ResourceSchedulerOptions>? configure = null)
    {
        var options = new ResourceSchedulerOptions();
        configure?.Invoke(options);
        silo.Services.AddSingleton(options);
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.TryAddSingleton(_ => TrainableRegistry.CreateDefault());
        return silo;
    }
}

/// <summary>How the resource scheduler tells a live worker from a lost one (configuration section <c>Tuner:Scheduler</c>).</summary>
public sealed class ResourceSchedulerOptions
{
    /// <summary>A worker not heard from for this long is lost; its trials are retried elsewhere. Keep it a few heartbeats long.</summary>
    public TimeSpan WorkerLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often leases are checked.</summary>
    public TimeSpan LeaseCheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}
