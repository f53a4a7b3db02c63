namespace Tuner.Data;

/// <summary>
/// Variable-length sequences padded to the longest in their batch (not the longest in the data
/// set), laid out row-major as [batch, time, features] for a tensor, with each sequence's length.
/// </summary>
public sealed record PaddedBatch<T>(T[] Values, int[] Lengths, int MaxLength, int Features)
    where T : struct
{
    public int Size => Lengths.Length;
}

public static class PaddedBatch
{
    /// <summary>Pads feature sequences (one array of features per step) with zeros.</summary>
    public static PaddedBatch<float> FromSequences(IReadOnlyList<float[][]> sequences)
    {
        var features = sequences.Count == 0 || sequences[0].Length == 0 ? 0 : sequences[0][0].Length;
        var max = sequences.Count == 0 ? 0 : sequences.Max(s => s.Length);
        var values = new float[sequences.Count * max * features];
        var lengths = new int[sequences.Count];
        for (var b = 0; b < sequences.Count; b++)
        {
            lengths[b] = sequences[b].Length;
            for (var t = 0; t < sequences[b].Length; t++)
            {
                if (sequences[b][t].Length != features)
                {
                    throw new ArgumentException($"sequence {b} step {t} has {sequences[b][t].Length} features, expected {features}", nameof(sequences));
                }

                sequences[b][t].CopyTo(values, ((b * max) + t) * features);
            }
        }

        return new PaddedBatch<float>(values, lengths, max, features);
    }

    /// <summary>Pads token index sequences with <see cref="Text.Vocabulary.Padding"/>.</summary>
    public static PaddedBatch<long> FromTokens(IReadOnlyList<int[]> sequences)
    {
        var max = sequences.Count == 0 ? 0 : sequences.Max(s => s.Length);
        var values = new long[sequences.Count * max];
        var lengths = new int[sequences.Count];
        for (var b = 0; b < sequences.Count; b++)
        {
            lengths[b] = sequences[b].Length;
            for (var t = 0; t < sequences[b].Length; t++)
            {
                values[(b * max) + t] = sequences[b][t];
            }
        }

        return new PaddedBatch<long>(values, lengths, max, 1);
    }
}
