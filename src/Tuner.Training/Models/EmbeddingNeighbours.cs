using System.Globalization;
using System.Text;
using System.Text.Json;
using Tuner.Core.Space;
using Tuner.Data.Text;

namespace Tuner.Training.Models;

/// <summary>
/// What a learned embedding space holds, written into a trial's folder (<c>embeddings/</c>): the nearest
/// neighbours by cosine similarity of a few words (<c>neighbours.txt</c>, <c>neighbours.json</c>), among the
/// most frequent words (rare words barely move from their random start), and every vector with its word
/// for TensorBoard's projector (<c>vectors.tsv</c>, <c>metadata.tsv</c>).
/// </summary>
public static class EmbeddingNeighbours
{
    /// <summary>How many of the most frequent words neighbours are chosen from.</summary>
    public const int Candidates = 1000;

    public static IReadOnlyList<string> DefaultWords { get; } = ["great", "bad", "love", "terrible", "boring", "excellent", "worst", "delicious"];

    /// <summary><c>neighbour_words</c> (comma-separated) of a config, else <see cref="DefaultWords"/>.</summary>
    public static IReadOnlyList<string> Words(TrialConfig config) =>
        config.TryGetValue("neighbour_words", out var value)
            ? [.. value.AsString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(w => w.ToLowerInvariant())]
            : DefaultWords;

    /// <summary>The <paramref name="count"/> nearest words to each of <paramref name="words"/> that the vocabulary has, with their cosine similarity.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<(string Word, double Similarity)>> Nearest(float[,] vectors, Vocabulary vocabulary, IEnumerable<string> words, int count)
    {
        var dimensions = vectors.GetLength(1);
        var norms = Enumerable.Range(0, vectors.GetLength(0)).Select(i => Math.Sqrt(Enumerable.Range(0, dimensions).Sum(d => (double)vectors[i, d] * vectors[i, d]))).ToArray();
        double Cosine(int a, int b) => norms[a] == 0 || norms[b] == 0 ? 0 : Enumerable.Range(0, dimensions).Sum(d => (double)vectors[a, d] * vectors[b, d]) / (norms[a] * norms[b]);
        var candidates = Enumerable.Range(2, Math.Min(Candidates, vocabulary.Count - 2)).ToArray();
        var nearest = new Dictionary<string, IReadOnlyList<(string, double)>>(StringComparer.Ordinal);
        foreach (var word in words)
        {
            var index = vocabulary.IndexOf(word);
            if (index == Vocabulary.Unknown)
            {
                continue;
            }

            nearest[word] = [.. candidates.Where(c => c != index).Select(c => (vocabulary.Words[c], Cosine(index, c))).OrderByDescending(p => p.Item2).Take(count)];
        }

        return nearest;
    }

    public static void Write(string directory, float[,] vectors, Vocabulary vocabulary, IReadOnlyList<string> words, int count)
    {
        Directory.CreateDirectory(directory);
        var nearest = Nearest(vectors, vocabulary, words, count);
        var text = new StringBuilder();
        foreach (var word in words)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{word}: {(nearest.TryGetValue(word, out var list) ? string.Join(", ", list.Select(p => $"{p.Word} ({p.Similarity:F2})")) : "(not in the vocabulary)")}");
        }

        File.WriteAllText(Path.Combine(directory, "neighbours.txt"), text.ToString());
        File.WriteAllText(
            Path.Combine(directory, "neighbours.json"),
            JsonSerializer.Serialize(nearest.ToDictionary(p => p.Key, p => p.Value.Select(n => new Dictionary<string, object> { ["word"] = n.Word, ["similarity"] = Math.Round(n.Similarity, 4) }).ToList())));
        using (var tsv = new StreamWriter(Path.Combine(directory, "vectors.tsv")))
        using (var metadata = new StreamWriter(Path.Combine(directory, "metadata.tsv")))
        {
            for (var i = 2; i < vectors.GetLength(0); i++)
            {
                tsv.WriteLine(string.Join('\t', Enumerable.Range(0, vectors.GetLength(1)).Select(d => vectors[i, d].ToString("G6", CultureInfo.InvariantCulture))));
                metadata.WriteLine(vocabulary.Words[i]);
            }
        }
    }
}
