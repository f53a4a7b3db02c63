using Orleans;
using Orleans.Runtime;

namespace Tuner.Abstractions.Grains;

/// <summary>
/// Grain references made without Orleans resolving the interface's grain type again on every call: <c>GetGrain&lt;T&gt;(key)</c>
/// looks the interface's attributes up by reflection each time (its resolver keeps no cache), which was 4% of a no-op
/// trial's CPU (a trial grain reference or two per trial, the resource scheduler's once per trial activation). The first call
/// per interface goes through Orleans; the types it resolved are kept (they are the same for every silo of this build), and
/// later references are made from a <see cref="GrainId"/> directly.
/// </summary>
public static class GrainReferences
{
    /// <summary>The grain of interface <typeparamref name="T"/> with the string key <paramref name="key"/>.</summary>
    public static T Get<T>(IGrainFactory grains, string key)
        where T : class, IGrainWithStringKey
    {
        if (Resolved<T>.Types is { } types)
        {
            return (T)grains.GetGrain(GrainId.Create(types.Type, key), types.Interface);
        }

        var reference = grains.GetGrain<T>(key);
        var resolved = (GrainReference)(object)reference;
        Resolved<T>.Types = new GrainTypes(resolved.GrainId.Type, resolved.InterfaceType, null, 0);
        return reference;
    }

    /// <summary>The grain of interface <typeparamref name="T"/> with the integer key <paramref name="key"/> (a cluster's one grain of its kind).</summary>
    public static T Get<T>(IGrainFactory grains, long key)
        where T : class, IGrainWithIntegerKey
    {
        if (Resolved<T>.Types is { Id: { } id } types && types.Key == key)
        {
            return (T)grains.GetGrain(id, types.Interface);
        }

        var reference = grains.GetGrain<T>(key);
        var resolved = (GrainReference)(object)reference;
        Resolved<T>.Types = new GrainTypes(resolved.GrainId.Type, resolved.InterfaceType, resolved.GrainId, key);
        return reference;
    }

    private sealed record GrainTypes(GrainType Type, GrainInterfaceType Interface, GrainId? Id, long Key);

    private static class Resolved<T>
    {
        // A reference's assignment is atomic: two first calls at once both resolve, and either answer serves.
        public static GrainTypes? Types;
    }
}
