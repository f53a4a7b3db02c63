using System.Globalization;

namespace Tuner.Core.Trainables;

/// <summary>Checkpoint helper for the built-in trainables, whose whole state is the iteration count.</summary>
internal static class IterationCheckpoint
{
    private const string FileName = "iteration.txt";

    public static async ValueTask SaveAsync(string directory, long iteration, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, FileName), iteration.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
    }

    public static async ValueTask<long> LoadAsync(string directory, CancellationToken cancellationToken)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(directory, FileName), cancellationToken).ConfigureAwait(false);
        return long.Parse(text, CultureInfo.InvariantCulture);
    }
}
