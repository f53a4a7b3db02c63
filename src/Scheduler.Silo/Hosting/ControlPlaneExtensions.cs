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
    public static ISiloBuilder AddTunerControlPlane(this ISiloBuilder silo)
    {
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.TryAddSingleton(_ => TrainableRegistry.CreateDefault());
        return silo;
    }
}
