namespace Tuner.Data.Text;

/// <summary>
/// Word indices for embeddings and one-hot inputs: 0 is padding, 1 stands for words not in the
/// vocabulary, then words by falling frequency (ties in ordinal order, so it is deterministic).
/// </summary>
public sealed class Vocabulary
{
    public const int Padding = 0;

    public const int Unknown = 1;

    private readonly Dictionary<string, int> _index;

    private Vocabulary(IReadOnlyList<string> words)
    {
        Words = words;
        _index = words.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i, StringComparer.Ordinal);
    }

    /// <summary>Every entry, index order: "&lt;pad&gt;", "&lt;unk&gt;", then the words.</summary>
    public IReadOnlyList<string> Words { get; }

    public int Count => Words.Count;

    /// <summary>Builds a vocabulary from tokenised texts (the training split only, to keep validation honest).</summary>
    public static Vocabulary Build(IEnumerable<IReadOnlyList<string>> texts, int minFrequency = 1, int? maxSize = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minFrequency, 1);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in texts.SelectMany(t => t))
        {
            counts[token] = counts.GetValueOrDefault(token) + 1;
        }

        var words = counts.Where(c => c.Value >= minFrequency)
            .OrderByDescending(c => c.Value)
            .ThenBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => c.Key);
        if (maxSize is { } max)
        {
            words = words.Take(Math.Max(max - 2, 0));
        }

        return new Vocabulary(["<pad>", "<unk>", .. words]);
    }

    public int IndexOf(string word) => _index.TryGetValue(word, out var i) ? i : Unknown;

    public int[] Encode(IReadOnlyList<string> tokens) => [.. tokens.Select(IndexOf)];
}
