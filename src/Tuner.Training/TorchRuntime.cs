using TorchSharp;
using Tuner.Training.Native;

namespace Tuner.Training;

/// <summary>Prepares the process for TorchSharp; call before the first tensor is made.</summary>
public static class TorchRuntime
{
    private static readonly Lazy<LibTorchSharpCompatibility.Outcome> Prepared = new(LibTorchSharpCompatibility.EnsureLoadable);

    /// <summary>Idempotent and thread-safe; returns what had to be done to make TorchSharp load here.</summary>
    public static LibTorchSharpCompatibility.Outcome EnsureInitialized() => Prepared.Value;

    /// <summary>The device a trial was granted: <c>cpu</c>, or <c>cuda</c> / <c>cuda:N</c> when this build and host have CUDA.</summary>
    public static torch.Device ResolveDevice(string name)
    {
        EnsureInitialized();
        if (name == "cpu")
        {
            return torch.CPU;
        }

        if (!name.StartsWith("cuda", StringComparison.Ordinal))
        {
            throw new ArgumentException($"device: '{name}' is not one of the allowed values: cpu, cuda, cuda:N");
        }

        if (!torch.cuda.is_available())
        {
            throw new InvalidOperationException($"device: the trial was granted '{name}', but this worker's TorchSharp has no CUDA (build it with -p:TorchDevice=cuda on a host with an NVIDIA driver)");
        }

        return torch.device(name);
    }
}
