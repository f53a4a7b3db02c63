using System.Collections;

namespace Tuner.Core.Space;

/// <summary>The hyperparameters to tune, in the order they were declared.</summary>
public sealed class SearchSpace : IEnumerable<KeyValuePair<string, Domain>>
{
    private readonly List<KeyValuePair<string, Domain>> _dimensions = [];
    private readonly Dictionary<string, Condition> _conditions = new(StringComparer.Ordinal);

    public SearchSpace()
    {
    }

    public SearchSpace(IEnumerable<KeyValuePair<string, Domain>> dimensions)
    {
        foreach (var (name, domain) in dimensions)
        {
            Add(name, domain);
        }
    }

    public int Count => _dimensions.Count;

    public IEnumerable<string> Names => _dimensions.Select(d => d.Key);

    public Domain this[string name]
    {
        get => _dimensions.First(d => d.Key == name).Value;
        set
        {
            var index = _dimensions.FindIndex(d => d.Key == name);
            if (index >= 0)
            {
                _dimensions[index] = new(name, value);
            }
            else
            {
                _dimensions.Add(new(name, value));
            }
        }
    }

    /// <summary>
    /// Adds a dimension, active only <paramref name="when"/> its condition on an earlier dimension holds;
    /// used by collection initialisers (<c>new SearchSpace { ["x"] = ... }</c> also works).
    /// </summary>
    public void Add(string name, Domain domain, Condition? when = null)
    {
        if (_dimensions.Any(d => d.Key == name))
        {
            throw new ArgumentException($"the space already has a dimension '{name}'", nameof(name));
        }

        _dimensions.Add(new(name, domain));
        if (when is not null)
        {
            _conditions[name] = when;
        }
    }

    /// <summary>True when some dimension is conditional.</summary>
    public bool IsConditional => _conditions.Count > 0;

    /// <summary>The condition under which a dimension is active; null when it always is.</summary>
    public Condition? ConditionOf(string name) => _conditions.GetValueOrDefault(name);

    /// <summary>
    /// The config made of <paramref name="values"/> with the inactive dimensions left out, in the
    /// space's order (parents first); values that are not dimensions (params) are kept as they are.
    /// </summary>
    public TrialConfig Resolve(IEnumerable<KeyValuePair<string, ParamValue>> values)
    {
        var given = values.ToList();
        var active = new Dictionary<string, ParamValue>(StringComparer.Ordinal);
        foreach (var (name, value) in given)
        {
            if (!Contains(name) || IsActive(name, active))
            {
                active[name] = value;
            }
        }

        return new TrialConfig(given.Where(p => active.ContainsKey(p.Key)));
    }

    /// <summary>
    /// Makes a config consistent after its values changed (population-based training's explore):
    /// drops what became inactive, draws what became active from its domain.
    /// </summary>
    public TrialConfig Complete(IEnumerable<KeyValuePair<string, ParamValue>> values, Random random)
    {
        var given = values.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var result = new List<KeyValuePair<string, ParamValue>>();
        var active = new Dictionary<string, ParamValue>(StringComparer.Ordinal);
        foreach (var (name, domain) in _dimensions)
        {
            if (!IsActive(name, active))
            {
                continue;
            }

            var value = given.TryGetValue(name, out var v) ? v : domain.Sample(random);
            active[name] = value;
            result.Add(new(name, value));
        }

        result.AddRange(given.Where(p => !Contains(p.Key)));
        return new TrialConfig(result);
    }

    /// <summary>Whether a dimension is active, given the values of the active dimensions before it.</summary>
    public bool IsActive(string name, IReadOnlyDictionary<string, ParamValue> activeBefore) =>
        ConditionOf(name) is not { } condition || (activeBefore.TryGetValue(condition.Parent, out var parent) && condition.Holds(parent));

    public bool Contains(string name) => _dimensions.Any(d => d.Key == name);

    public IEnumerator<KeyValuePair<string, Domain>> GetEnumerator() => _dimensions.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
