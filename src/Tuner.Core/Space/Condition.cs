using System.Globalization;

namespace Tuner.Core.Space;

/// <summary>
/// When a dimension is active: only for some values of another dimension declared before it
/// (<c>momentum</c> only when <c>optimizer</c> is <c>sgd</c>; <c>units_2</c> only when <c>layers</c> is at
/// least 2). A dimension whose parent is inactive is inactive too. An inactive dimension is left out
/// of the trial's config. In YAML: <c>when: { optimizer: sgd }</c>, <c>when: { optimizer: [sgd, rmsprop] }</c>
/// or <c>when: { layers: { min: 2 } }</c> (<c>min</c> and <c>max</c> inclusive).
/// </summary>
public sealed record Condition(string Parent, IReadOnlyList<ParamValue>? Values = null, double? Min = null, double? Max = null)
{
    /// <summary>Active when the parent takes one of <paramref name="values"/>.</summary>
    public static Condition In(string parent, params ParamValue[] values) => new(parent, values);

    /// <summary>Active when the parent is at least <paramref name="min"/> (and at most <paramref name="max"/>, if given).</summary>
    public static Condition Between(string parent, double? min, double? max = null) => new(parent, null, min, max);

    public bool Holds(ParamValue parentValue)
    {
        if (Values is not null)
        {
            return Values.Any(v => v.Equals(parentValue) || (IsNumber(v) && IsNumber(parentValue) && v.AsDouble() == parentValue.AsDouble()));
        }

        if (!IsNumber(parentValue))
        {
            return false;
        }

        var x = parentValue.AsDouble();
        return (Min is not { } low || x >= low) && (Max is not { } high || x <= high);
    }

    private static bool IsNumber(ParamValue value) => value.Kind is ParamKind.Float or ParamKind.Integer;

    /// <summary>In words, for reports: <c>optimizer in [sgd]</c>, <c>layers &gt;= 2</c>.</summary>
    public string Describe()
    {
        if (Values is not null)
        {
            return $"{Parent} in [{string.Join(", ", Values.Select(v => v.ToDisplayString()))}]";
        }

        var parts = new List<string>(2);
        if (Min is { } low)
        {
            parts.Add($"{Parent} >= {low.ToString("G6", CultureInfo.InvariantCulture)}");
        }

        if (Max is { } high)
        {
            parts.Add($"{Parent} <= {high.ToString("G6", CultureInfo.InvariantCulture)}");
        }

        return string.Join(" and ", parts);
    }
}
