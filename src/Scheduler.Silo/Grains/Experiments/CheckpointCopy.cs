using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>Population-based training's exploit: a trial goes on from a copy of another trial's latest checkpoint.</summary>
internal static class CheckpointCopy
{
    /// <summary>
    /// Copies the donor's latest checkpoint into <paramref name="root"/> (the trial's own checkpoint folder,
    /// emptied first), so that the donor's pruning never removes it. Null when the donor has none.
    /// </summary>
    public static async Task<CheckpointRef?> FromAsync(Func<Task<CheckpointRef?>> donorLatest, string root)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await donorLatest() is not { } latest)
            {
                return null;
            }

            try
            {
                if (Directory.Exists(root))
                {
                    Directory.Delete(root, recursive: true);
                }

                var target = Path.Combine(root, Path.GetFileName(Path.TrimEndingDirectorySeparator(latest.Path)));
                CopyDirectory(latest.Path, target);
                return latest with { Path = target };
            }
            catch (DirectoryNotFoundException)
            {
                // The donor pruned it meanwhile: take its newer one.
            }
        }

        return null;
    }

    private static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.EnumerateDirectories(source))
        {
            CopyDirectory(directory, Path.Combine(target, Path.GetFileName(directory)));
        }
    }
}
