using System.Collections;

namespace Tuner.Core.Space;

/// <summary>The hyperparameters to tune, in the order they were declared.</summary>
public sealed class SearchSpace : IEnumerable<KeyValuePair<string, Domain>>
{
    private readonly List<KeyValuePair<string, Domain>> _dimensions = [];

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

    /// <summary>Adds a dimension; used by collection initialisers (<c>new SearchSpace { ["x"] = ... }</c> also works).</summary>
    public void Add(string name, Domain domain)
    {
        if (_dimensions.Any(d => d.Key == name))
        {
            throw new ArgumentException($"the space already has a dimension '{name}'", nameof(name));
        }

        _dimensions.Add(new(name, domain));
    }

    public bool Contains(string name) => _dimensions.Any(d => d.Key == name);

    public IEnumerator<KeyValuePair<string, Domain>> GetEnumerator() => _dimensions.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
