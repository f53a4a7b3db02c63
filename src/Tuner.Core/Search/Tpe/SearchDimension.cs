using Tuner.Core.Space;

namespace Tuner.Core.Search.Tpe;

/// <summary>
/// A search-space dimension as a model-based searcher sees it: a number on a bounded (possibly
/// logarithmic) axis, or one of a list of categories. Values move between <see cref="ParamValue"/>
/// and the internal axis: the logarithm for log domains, the category's index for categories.
/// </summary>
internal abstract record SearchDimension(string Name, Domain Domain)
{
    public static SearchDimension From(string name, Domain domain) => domain switch
    {
        UniformDomain d => new NumericDimension(name, domain, d.Low, d.High, Log: false, Step: 0),
        QUniformDomain d => new NumericDimension(name, domain, d.Low, d.High, Log: false, Step: d.Q),
        LogUniformDomain d => new NumericDimension(name, domain, Math.Log(d.Low), Math.Log(d.High), Log: true, Step: 0),
        QLogUniformDomain d => new NumericDimension(name, domain, Math.Log(d.Low), Math.Log(d.High), Log: true, Step: d.Q),

        // The prior's mass beyond four standard deviations is negligible.
        NormalDomain d => new NumericDimension(name, domain, d.Mean - (4 * d.StandardDeviation), d.Mean + (4 * d.StandardDeviation), Log: false, Step: 0),
        RandIntDomain d => new NumericDimension(name, domain, d.Low - 0.5, d.High - 0.5, Log: false, Step: 1, Integer: true),
        QRandIntDomain d => new NumericDimension(name, domain, d.Low - (d.Q / 2.0), d.High + (d.Q / 2.0), Log: false, Step: d.Q, Integer: true),
        LogRandIntDomain d => new NumericDimension(name, domain, Math.Log(d.Low), Math.Log(d.High), Log: true, Step: 1, Integer: true),
        ChoiceDomain d => new CategoricalDimension(name, domain, d.Values),
        GridDomain d => new CategoricalDimension(name, domain, d.Values),
        _ => throw new ArgumentException($"space.{name}: {domain.Primitive} is not supported by model-based search", nameof(domain)),
    };

    /// <summary>A config's point on the dimensions' internal axes; a dimension the config leaves out (inactive) is NaN.</summary>
    public static double[] PointOf(IReadOnlyList<SearchDimension> dimensions, TrialConfig config) =>
        [.. dimensions.Select(d => config.TryGetValue(d.Name, out var value) ? d.ToInternal(value) : double.NaN)];

    /// <summary>The value on the internal axis.</summary>
    public abstract double ToInternal(ParamValue value);

    /// <summary>The config value for a point on the internal axis (rounded, clamped to the domain).</summary>
    public abstract ParamValue ToValue(double point);
}

/// <param name="Low">The lower end of the internal axis (the logarithm for log domains).</param>
/// <param name="Step">A quantum on the value axis (0: continuous).</param>
internal sealed record NumericDimension(string Name, Domain Domain, double Low, double High, bool Log, double Step, bool Integer = false)
    : SearchDimension(Name, Domain)
{
    public override double ToInternal(ParamValue value) => Log ? Math.Log(value.AsDouble()) : value.AsDouble();

    /// <summary>A value on the internal axis scaled to [0, 1] (clamped): the unit cube GP and CMA-ES work on.</summary>
    public double ToUnit(ParamValue value) => Math.Clamp((ToInternal(value) - Low) / (High - Low), 0, 1);

    /// <summary>The config value at <paramref name="unit"/> on the [0, 1] scaled axis.</summary>
    public ParamValue FromUnit(double unit) => ToValue(Low + (unit * (High - Low)));

    public override ParamValue ToValue(double point)
    {
        var value = Log ? Math.Exp(point) : point;
        switch (Domain)
        {
            case QUniformDomain q:
                return ParamValue.Float(Math.Clamp(Math.Round((value - q.Low) / q.Q) * q.Q + q.Low, q.Low, q.High));
            case QLogUniformDomain q:
                return ParamValue.Float(Math.Clamp(Math.Round(value / q.Q) * q.Q, q.Low, q.High));
            case RandIntDomain r:
                return ParamValue.Integer(Math.Clamp((long)Math.Round(value), r.Low, r.High - 1));
            case QRandIntDomain r:
                return ParamValue.Integer(Math.Clamp((long)Math.Round((value - r.Low) / r.Q) * r.Q + r.Low, r.Low, r.High));
            case LogRandIntDomain r:
                return ParamValue.Integer(Math.Clamp((long)Math.Floor(value), r.Low, r.High - 1));
            case LogUniformDomain l:
                return ParamValue.Float(Math.Clamp(value, l.Low, l.High));
            default:
                return ParamValue.Float(Math.Clamp(value, Math.Min(Low, High), Math.Max(Low, High)));
        }
    }
}

internal sealed record CategoricalDimension(string Name, Domain Domain, IReadOnlyList<ParamValue> Values) : SearchDimension(Name, Domain)
{
    public override double ToInternal(ParamValue value)
    {
        for (var i = 0; i < Values.Count; i++)
        {
            if (Values[i].Equals(value))
            {
                return i;
            }
        }

        throw new ArgumentException($"space.{Name}: {value} is not one of its values", nameof(value));
    }

    public override ParamValue ToValue(double point) => Values[(int)point];
}
