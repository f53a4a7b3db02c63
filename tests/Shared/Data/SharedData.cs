using Tuner.Data.Cache;

namespace Tuner.Tests;

/// <summary>
/// The data sets tests read: TUNER_DATA_DIR, else <c>../shared/data</c> beside the repository (CI's
/// copies), else the user's data cache (<c>~/.cache/tuner/data</c>), where a missing file is
/// downloaded from its public address and checked against its checksum, as <c>tuner run</c> does.
/// </summary>
internal static class SharedData
{
    public static string Directory { get; } = Choose(
        Environment.GetEnvironmentVariable(DataCache.EnvironmentVariable),
        Path.GetFullPath(Path.Combine(RepoRoot.Path, "..", "shared", "data")));

    public static DataCache Cache => new(Directory);

    /// <summary>Points this process (and the trial processes it starts) at the data sets; returns the cache.</summary>
    public static DataCache UseForProcess()
    {
        var cache = Cache;
        Environment.SetEnvironmentVariable(DataCache.EnvironmentVariable, Directory);
        return cache;
    }

    /// <summary>The configured folder, else the shared copies where they exist, else the user's cache (made when missing).</summary>
    internal static string Choose(string? configured, string shared)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return Path.GetFullPath(configured);
        }

        if (System.IO.Directory.Exists(shared))
        {
            return shared;
        }

        var cache = DataCache.Resolve(directory: null).Directory;
        System.IO.Directory.CreateDirectory(cache);
        return cache;
    }
}
