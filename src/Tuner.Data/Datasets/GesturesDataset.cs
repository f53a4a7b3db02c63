using System.Globalization;
using System.IO.Compression;
using Tuner.Data.Cache;

namespace Tuner.Data.Datasets;

/// <summary>One recording: a user's repetition of a gesture, a sequence of 3-axis accelerometer readings.</summary>
/// <param name="Label">The gesture, 0 to 19.</param>
/// <param name="Steps">One <c>[x, y, z]</c> per time step.</param>
public sealed record GestureSequence(string User, int Label, float[][] Steps);

/// <summary>
/// The SmartWatch gestures data set (FBK): 8 users x 20 gestures x ~20 repetitions = 3,251
/// sequences of 19-51 steps, the data the course's <c>hypertune.py</c> tunes a GRU on. Each file
/// <c>gestures-dataset/Uxx/yy/zz.txt</c> holds one line per step: three timestamps, then x y z.
/// </summary>
public static class GesturesDataset
{
    public const int Classes = 20;

    public const int Features = 3;

    public static DataFile File { get; } = new(
        "gestures-dataset.zip",
        new Uri("https://github.com/raoulg/gestures/raw/main/gestures-dataset.zip"),
        ChecksumKind.Sha256,
        "4a6c5ac1d408f8405d456e0404b424b905ea49425c663fb08f0c3ab341efd32d");

    public static async Task<IReadOnlyList<GestureSequence>> LoadAsync(DataCache cache, CancellationToken cancellationToken = default)
    {
        var path = await cache.GetAsync(File, cancellationToken).ConfigureAwait(false);
        using var zip = ZipFile.OpenRead(path);
        var sequences = new List<GestureSequence>(3300);
        foreach (var entry in zip.Entries.Where(e => e.FullName.EndsWith(".txt", StringComparison.Ordinal)).OrderBy(e => e.FullName, StringComparer.Ordinal))
        {
            // gestures-dataset/U01/07/12.txt: user U01, gesture 07.
            var parts = entry.FullName.Split('/');
            if (parts.Length < 4 || !int.TryParse(parts[^2], NumberStyles.None, CultureInfo.InvariantCulture, out var gesture) || gesture is < 1 or > Classes)
            {
                continue;
            }

            using var reader = new StreamReader(entry.Open());
            sequences.Add(new GestureSequence(parts[^3], gesture - 1, ReadSteps(reader, entry.FullName)));
        }

        return sequences;
    }

    private static float[][] ReadSteps(StreamReader reader, string name)
    {
        var steps = new List<float[]>(64);
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length < 6
                || !float.TryParse(columns[3], NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
                || !float.TryParse(columns[4], NumberStyles.Float, CultureInfo.InvariantCulture, out var y)
                || !float.TryParse(columns[5], NumberStyles.Float, CultureInfo.InvariantCulture, out var z))
            {
                throw new DataUnavailableException($"{name} line {lineNumber}: expected three timestamps then x y z, got '{line}'");
            }

            steps.Add([x, y, z]);
        }

        return [.. steps];
    }
}
