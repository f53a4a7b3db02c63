using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace Tuner.Hosting;

/// <summary>
/// The silo's cache of where grains live, sized for trials. Orleans keeps up to a million entries by default, and every trial
/// grain a silo has called gets one that stays after the trial's grain has gone: 100,000 trials left some 200 MB of entries for
/// grains long gone. Live trials are a few hundred at most, so a small cache holds every one a silo is talking to; one
/// evicted costs a directory lookup.
/// </summary>
public static class GrainDirectoryCache
{
    /// <summary>Entries kept: far more than the trials any cluster runs at once.</summary>
    public const int Size = 10_000;

    public static ISiloBuilder UseTrialSizedDirectoryCache(this ISiloBuilder silo)
    {
        silo.Services.Configure<GrainDirectoryOptions>(o => o.CacheSize = Size);
        return silo;
    }
}
