using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Trainables;

namespace Tuner.Client.Space;

/// <summary>
/// Builds a search space in code, one call per hyperparameter, as Ray's <c>tune.uniform</c>,
/// <c>tune.choice</c>, ... do in a param_space dictionary:
/// <code>
/// var space = new SearchSpaceBuilder()
///     .RandInt("hidden_size", 16, 128)
///     .Uniform("dropout", 0, 0.3)
///     .Choice("optimizer", "adam", "sgd")
///     .Uniform("momentum", 0.5, 0.99).When("optimizer", "sgd")
///     .Build();
/// </code>
/// The spec's validator checks the values (bounds, conditions) when the experiment is submitted.
/// </summary>
public sealed class SearchSpaceBuilder
{
    private readonly List<(string Name, Domain Domain, Condition? When)> _dimensions = [];

    public SearchSpaceBuilder Uniform(string name, double low, double high) => Add(name, Domain.Uniform(low, high));

    public SearchSpaceBuilder QUniform(string name, double low, double high, double q) => Add(name, Domain.QUniform(low, high, q));

    public SearchSpaceBuilder LogUniform(string name, double low, double high) => Add(name, Domain.LogUniform(low, high));

    public SearchSpaceBuilder QLogUniform(string name, double low, double high, double q) => Add(name, Domain.QLogUniform(low, high, q));

    public SearchSpaceBuilder Normal(string name, double mean, double standardDeviation) => Add(name, Domain.Normal(mean, standardDeviation));

    /// <summary>A whole number from <paramref name="low"/> up to <paramref name="high"/>, excluded (as Ray's <c>tune.randint</c>).</summary>
    public SearchSpaceBuilder RandInt(string name, long low, long high) => Add(name, Domain.RandInt(low, high));

    public SearchSpaceBuilder QRandInt(string name, long low, long high, long q) => Add(name, Domain.QRandInt(low, high, q));

    public SearchSpaceBuilder LogRandInt(string name, long low, long high) => Add(name, Domain.LogRandInt(low, high));

    /// <summary>One of the values, drawn at random (or modelled by the searcher).</summary>
    public SearchSpaceBuilder Choice(string name, params ParamValue[] values) => Add(name, Domain.Choice(values));

    /// <summary>Every value, in every combination with the other grid dimensions.</summary>
    public SearchSpaceBuilder Grid(string name, params ParamValue[] values) => Add(name, Domain.Grid(values));

    /// <summary>Makes the last dimension conditional: it exists only when <paramref name="parent"/> takes one of <paramref name="values"/>.</summary>
    public SearchSpaceBuilder When(string parent, params ParamValue[] values) => Condition(Core.Space.Condition.In(parent, values));

    /// <summary>Makes the last dimension conditional: it exists only when the numeric <paramref name="parent"/> lies in [min, max].</summary>
    public SearchSpaceBuilder WhenBetween(string parent, double? min, double? max = null) => Condition(Core.Space.Condition.Between(parent, min, max));

    public SearchSpace Build()
    {
        var space = new SearchSpace();
        foreach (var (name, domain, when) in _dimensions)
        {
            space.Add(name, domain, when);
        }

        return space;
    }

    private SearchSpaceBuilder Add(string name, Domain domain)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_dimensions.Any(d => d.Name == name))
        {
            throw new ArgumentException($"'{name}' is already in the search space", nameof(name));
        }

        _dimensions.Add((name, domain, null));
        return this;
    }

    private SearchSpaceBuilder Condition(Condition condition)
    {
        if (_dimensions.Count == 0)
        {
            throw new InvalidOperationException("When/WhenBetween applies to the dimension added just before; add one first");
        }

        _dimensions[^1] = _dimensions[^1] with { When = condition };
        return this;
    }
}

/// <summary>Custom trainables named from code.</summary>
public static class CustomTrainable
{
    /// <summary>The trainable class <typeparamref name="T"/>, loaded from its assembly's file in a load context of its own.</summary>
    public static CustomTrainableSpec Of<T>()
        where T : ITrainable, new() => new() { Assembly = typeof(T).Assembly.Location, Type = typeof(T).FullName };

    /// <summary>A program speaking the trial protocol (TUNER_CONFIG_FILE in, TUNER_REPORT lines out).</summary>
    public static CustomTrainableSpec Command(IReadOnlyList<string> command, string? workingDir = null, IReadOnlyDictionary<string, string>? env = null) =>
        new() { Command = command, WorkingDir = workingDir is null ? null : Path.GetFullPath(workingDir), Env = env ?? new Dictionary<string, string>() };
}
