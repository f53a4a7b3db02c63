using Tuner.Training.Native;

namespace Tuner.Training;

/// <summary>Prepares the process for TorchSharp; call before the first tensor is made.</summary>
public static class TorchRuntime
{
    private static readonly Lazy<LibTorchSharpCompatibility.Outcome> Prepared = new(LibTorchSharpCompatibility.EnsureLoadable);

    /// <summary>Idempotent and thread-safe; returns what had to be done to make TorchSharp load here.</summary>
    public static LibTorchSharpCompatibility.Outcome EnsureInitialized() => Prepared.Value;
}
