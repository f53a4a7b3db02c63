using System.Collections;

namespace Tuner.Core.Space;

/// <summary>
/// The values one trial runs with: the sampled hyperparameters merged with the spec's fixed params.
/// Keys keep the order of the spec, so tables and files list them the way the user wrote them.
/// </summary>
public sealed class TrialConfig : IReadOnlyDictionary<string, ParamValue>
{
    private readonly KeyValuePair<string, ParamValue>[] _items;

    public TrialConfig(IEnumerable<KeyValuePair<string, ParamValue>> items)
    {
        _items = items.ToArray();
    }

    public static TrialConfig Empty { get; } = new([]);

    public ParamValue this[string key] => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"the config has no parameter '{key}' (it has: {string.Join(", ", Keys)})");

    public IEnumerable<string> Keys => _items.Select(i => i.Key);

    public IEnumerable<ParamValue> Values => _items.Select(i => i.Value);

    public int Count => _items.Length;

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, out ParamValue value)
    {
        foreach (var item in _items)
        {
            if (item.Key == key)
            {
                value = item.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    public double GetDouble(string key, double fallback) => TryGetValue(key, out var v) ? v.AsDouble() : fallback;

    public long GetInteger(string key, long fallback) => TryGetValue(key, out var v) ? v.AsInteger() : fallback;

    public string GetString(string key, string fallback) => TryGetValue(key, out var v) ? v.AsString() : fallback;

    public IEnumerator<KeyValuePair<string, ParamValue>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, ParamValue>>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(", ", _items.Select(i => $"{i.Key}={i.Value.ToDisplayString()}"));
}
