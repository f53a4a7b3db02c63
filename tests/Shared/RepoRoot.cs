namespace Tuner.Tests;

/// <summary>The repository root, found from the test binary's folder.</summary>
internal static class RepoRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Tuner.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Tuner.sln above {AppContext.BaseDirectory}");
    }
}
