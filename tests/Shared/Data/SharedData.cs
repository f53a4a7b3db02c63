using Tuner.Data.Cache;

namespace Tuner.Tests;

/// <summary>The data sets laid out for tests and CI: TUNER_DATA_DIR, else ../shared/data beside the repository.</summary>
internal static class SharedData
{
    public static string Directory { get; } = Environment.GetEnvironmentVariable(DataCache.EnvironmentVariable)
        ?? Path.GetFullPath(Path.Combine(RepoRoot.Path, "..", "shared", "data"));

    public static DataCache Cache => System.IO.Directory.Exists(Directory)
        ? new DataCache(Directory)
        : throw new InvalidOperationException($"the shared data sets are not at {Directory}; set {DataCache.EnvironmentVariable}");

    /// <summary>Points this process (and the trial processes it starts) at the shared data sets; returns the cache.</summary>
    public static DataCache UseForProcess()
    {
        var cache = Cache;
        Environment.SetEnvironmentVariable(DataCache.EnvironmentVariable, Directory);
        return cache;
    }
}
