using System.Runtime;
using TorchSharp;

namespace Tuner.Training;

/// <summary>
/// TorchSharp turns numbers into native scalars implicitly (<c>t.mul_(0.9)</c>) and frees them in a
/// finalizer. It passes the raw handle to native code, so a garbage collection while the call runs
/// can free the scalar under it: the call then fails with "Unknown scalar type" or worse. Seen in its
/// optimisers' steps when two trials train side by side. Our own code makes and disposes its scalars
/// explicitly; a training step (forward, backward, optimiser) runs here, where no collection happens.
/// </summary>
public static class NativeScalars
{
    // Far more than a training step allocates: its batch, and a few objects per tensor it touches.
    private const long Budget = 16L * 1024 * 1024;

    public static T WithoutCollection<T>(Func<T> call)
    {
        var region = GCSettings.LatencyMode != GCLatencyMode.NoGCRegion && GC.TryStartNoGCRegion(Budget);
        try
        {
            return call();
        }
        finally
        {
            // The region ends by itself if the budget ran out; ending it then would throw.
            if (region && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                GC.EndNoGCRegion();
            }
        }
    }
}
