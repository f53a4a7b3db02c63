using Tuner.Data.Cache;

namespace Tuner.Data.Datasets;

/// <summary>A sentence and its sentiment: 0 negative, 1 positive.</summary>
/// <param name="Source">amazon, imdb or yelp.</param>
public sealed record LabelledSentence(string Text, int Label, string Source);

/// <summary>
/// Sentiment Labelled Sentences (Kotzias et al., KDD 2015): 1,000 sentences each from amazon, imdb
/// and yelp, half of each positive; lines <c>sentence&lt;TAB&gt;label</c>. Published as one zip; the
/// cache keeps the three files under <c>sentiment-labelled-sentences/</c>.
/// </summary>
public static class SentimentDataset
{
    public static Uri Archive { get; } = new("https://archive.ics.uci.edu/ml/machine-learning-databases/00331/sentiment%20labelled%20sentences.zip");

    public static IReadOnlyList<DataFile> Files { get; } =
    [
        File("amazon_cells_labelled.txt", "f737b1e64487b2d2518fcefdb0257e63"),
        File("imdb_labelled.txt", "02d251f3d90a581f072f23f96ef27818"),
        File("yelp_labelled.txt", "3a7fe2c38dc373d2ca8e687d6226a82e"),
    ];

    private static DataFile File(string name, string md5) =>
        new($"sentiment-labelled-sentences/{name}", Archive, ChecksumKind.Md5, md5);

    public static async Task<IReadOnlyList<LabelledSentence>> LoadAsync(DataCache cache, CancellationToken cancellationToken = default)
    {
        var paths = await cache.GetFromArchiveAsync(Archive, Files, cancellationToken).ConfigureAwait(false);
        var sentences = new List<LabelledSentence>(3000);
        foreach (var path in paths)
        {
            var source = Path.GetFileName(path).Split('_')[0];
            var lineNumber = 0;
            foreach (var line in await System.IO.File.ReadAllLinesAsync(path, cancellationToken).ConfigureAwait(false))
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                var tab = line.LastIndexOf('\t');
                var label = tab < 0 ? string.Empty : line[(tab + 1)..].Trim();
                if (label is not ("0" or "1"))
                {
                    throw new DataUnavailableException($"{path} line {lineNumber}: expected 'sentence<TAB>0|1', got '{line}'");
                }

                sentences.Add(new LabelledSentence(line[..tab].Trim(), label == "1" ? 1 : 0, source));
            }
        }

        return sentences;
    }
}
