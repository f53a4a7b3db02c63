namespace Tuner.Core.Trainables;

/// <summary>Checkpoint folders as workers and trial processes write them: named by iteration, always complete.</summary>
public static class CheckpointFolder
{
    public static string Name(long iteration) => $"checkpoint_{iteration:D6}";

    /// <summary>
    /// Saves <paramref name="trainable"/> into a temporary folder beside <paramref name="directory"/>, then
    /// renames it into place (replacing an older one of the same name), so a crash never leaves half a checkpoint.
    /// </summary>
    public static async Task SaveAsync(ITrainable trainable, string directory, CancellationToken cancellationToken)
    {
        var temp = directory + ".tmp";
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }

        // The folder exists when the trainable is called: one that has nothing to save (or writes files only) is fine.
        Directory.CreateDirectory(temp);
        await trainable.SaveCheckpointAsync(temp, cancellationToken).ConfigureAwait(false);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.Move(temp, directory);
    }
}
