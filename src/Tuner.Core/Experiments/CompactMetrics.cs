using System.Diagnostics.CodeAnalysis;

namespace Tuner.Core.Experiments;

/// <summary>
/// A finished trial's last metrics, kept small: the values in an array, the names in an array shared by every trial that
/// reported the same names (<see cref="Keys"/>), looked up by a scan (a trainable reports a handful). About 70 bytes against a
/// dictionary's 250 for three metrics: at 100,000 finished trials, what the experiment keeps of each matters.
/// </summary>
public sealed class CompactMetrics : IReadOnlyDictionary<string, double>
{
    private readonly string[] _names;
    private readonly double[] _values;

    private CompactMetrics(string[] names, double[] values) => (_names, _values) = (names, values);

    /// <summary>
    /// <paramref name="metrics"/> as a compact copy, its names taken from <paramref name="shared"/> when an entry there
    /// has the same names in the same order (else added to it).
    /// </summary>
    public static IReadOnlyDictionary<string, double> Of(IReadOnlyDictionary<string, double> metrics, List<string[]> shared)
    {
        if (metrics is CompactMetrics)
        {
            return metrics;
        }

        var values = new double[metrics.Count];
        var names = (string[]?)null;
        foreach (var candidate in shared)
        {
            if (candidate.Length == values.Length && Fill(metrics, candidate, values))
            {
                names = candidate;
                break;
            }
        }

        if (names is null)
        {
            names = new string[values.Length];
            var i = 0;
            foreach (var (name, value) in metrics)
            {
                (names[i], values[i]) = (name, value);
                i++;
            }

            // A handful of name sets in practice; a trainable whose names change every report does not grow this for ever.
            if (shared.Count < 64)
            {
                shared.Add(names);
            }
        }

        return new CompactMetrics(names, values);
    }

    /// <summary>The values in the order of <paramref name="names"/>, when the metrics have exactly those names in that order.</summary>
    private static bool Fill(IReadOnlyDictionary<string, double> metrics, string[] names, double[] values)
    {
        var i = 0;
        foreach (var (name, value) in metrics)
        {
            if (!string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return false;
            }

            values[i++] = value;
        }

        return true;
    }

    public double this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no metric {key}");

    public IEnumerable<string> Keys => _names;

    public IEnumerable<double> Values => _values;

    public int Count => _names.Length;

    public bool ContainsKey(string key) => Array.IndexOf(_names, key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out double value)
    {
        for (var i = 0; i < _names.Length; i++)
        {
            if (string.Equals(_names[i], key, StringComparison.Ordinal))
            {
                value = _values[i];
                return true;
            }
        }

        value = 0;
        return false;
    }

    public IEnumerator<KeyValuePair<string, double>> GetEnumerator()
    {
        for (var i = 0; i < _names.Length; i++)
        {
            yield return new KeyValuePair<string, double>(_names[i], _values[i]);
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
