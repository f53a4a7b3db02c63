using System.Security.Cryptography;
using System.Text;
using Tuner.Training.Tasks;

namespace Tuner.Training.Models.Pretrained;

/// <summary>
/// Features a frozen network computed, kept on the worker's disk so that every trial with the same frozen
/// network and data reuses them: the first trial computes them (holding a lock file, so a trial starting
/// beside it waits instead of computing them again), later ones read them. The folder is
/// <c>TUNER_FEATURE_CACHE</c>, else <c>$XDG_CACHE_HOME/tuner/features</c> (by default <c>~/.cache/tuner/features</c>).
/// </summary>
public sealed class FeatureCache(string directory)
{
    public const string EnvironmentVariable = "TUNER_FEATURE_CACHE";

    public string Directory { get; } = Path.GetFullPath(directory);

    public static FeatureCache Resolve() => new(
        Environment.GetEnvironmentVariable(EnvironmentVariable)
        ?? Path.Combine(
            Environment.GetEnvironmentVariable("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
            "tuner",
            "features"));

    /// <summary>The features under <paramref name="key"/> (which names the network, the data and the views), computing them when no trial has.</summary>
    public async Task<(CachedFeatures Features, bool Computed)> GetOrComputeAsync(string key, Func<Task<CachedFeatures>> compute, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..24];
        var path = Path.Combine(Directory, $"{name}.features");
        if (File.Exists(path))
        {
            return (CachedFeatures.Read(path), false);
        }

        await using var held = await LockAsync(Path.Combine(Directory, $"{name}.lock"), cancellationToken).ConfigureAwait(false);
        if (File.Exists(path))
        {
            return (CachedFeatures.Read(path), false);
        }

        var features = await compute().ConfigureAwait(false);
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        features.Write(temp);
        await File.WriteAllTextAsync(Path.Combine(Directory, $"{name}.key"), key, cancellationToken).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
        return (features, true);
    }

    /// <summary>An exclusive lock file; the OS drops it when the holder dies, so a killed trial never blocks the next.</summary>
    private static async Task<FileStream> LockAsync(string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
