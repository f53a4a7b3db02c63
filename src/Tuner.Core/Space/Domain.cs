using System.Globalization;

namespace Tuner.Core.Space;

/// <summary>
/// Where one hyperparameter's values come from: Ray Tune's sampling primitives.
/// Each domain validates itself, samples with a caller's seeded <see cref="Random"/>, and, where it
/// is finite, lists its values for grid search.
/// </summary>
public abstract record Domain
{
    /// <summary>The primitive's name as written in a spec (<c>uniform</c>, <c>choice</c>, ...).</summary>
    public abstract string Primitive { get; }

    /// <summary>What the primitive takes, for error messages.</summary>
    public abstract string Usage { get; }

    /// <summary>Draws one value.</summary>
    public abstract ParamValue Sample(Random random);

    /// <summary>The problems with this domain's arguments; empty when it is valid.</summary>
    public abstract IEnumerable<string> Validate();

    /// <summary>Every value, for grid search; null when the domain is continuous or unbounded.</summary>
    public virtual IReadOnlyList<ParamValue>? EnumerateValues() => null;

    /// <summary>Why <paramref name="value"/> is not a value of this domain (a user's warm-start point), or null when it is.</summary>
    public string? Refuses(ParamValue value)
    {
        var number = value.Kind is ParamKind.Float or ParamKind.Integer;
        return this switch
        {
            ChoiceDomain or GridDomain => EnumerateValues()!.Contains(value) ? null : $"{value} is not one of {string.Join(", ", EnumerateValues()!)}",
            _ when !number => $"expected a number ({Usage}), got {value}",
            RandIntDomain d => Integral(value, d.Low, d.High - 1),
            QRandIntDomain d => Integral(value, d.Low, d.High),
            LogRandIntDomain d => Integral(value, d.Low, d.High - 1),
            UniformDomain d => Within(value, d.Low, d.High),
            QUniformDomain d => Within(value, d.Low, d.High),
            LogUniformDomain d => Within(value, d.Low, d.High),
            QLogUniformDomain d => Within(value, d.Low, d.High),
            _ => null,
        };

        static string? Within(ParamValue v, double low, double high) =>
            v.AsDouble() >= low && v.AsDouble() <= high ? null : $"{v} is outside [{F(low)}, {F(high)}]";

        static string? Integral(ParamValue v, long low, long high) =>
            v.Kind != ParamKind.Integer ? $"expected a whole number in [{low}, {high}], got {v}"
            : v.AsInteger() >= low && v.AsInteger() <= high ? null : $"{v} is outside [{low}, {high}]";
    }

    public static Domain Uniform(double low, double high) => new UniformDomain(low, high);

    public static Domain QUniform(double low, double high, double q) => new QUniformDomain(low, high, q);

    public static Domain LogUniform(double low, double high) => new LogUniformDomain(low, high);

    public static Domain QLogUniform(double low, double high, double q) => new QLogUniformDomain(low, high, q);

    public static Domain Normal(double mean, double sd) => new NormalDomain(mean, sd);

    public static Domain RandInt(long low, long high) => new RandIntDomain(low, high);

    public static Domain QRandInt(long low, long high, long q) => new QRandIntDomain(low, high, q);

    public static Domain LogRandInt(long low, long high) => new LogRandIntDomain(low, high);

    public static Domain Choice(params ParamValue[] values) => new ChoiceDomain(values);

    public static Domain Grid(params ParamValue[] values) => new GridDomain(values);

    private protected static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private protected static IEnumerable<string> CheckFinite(params (string Name, double Value)[] values) =>
        values.Where(v => !double.IsFinite(v.Value)).Select(v => $"{v.Name} must be a finite number, got {F(v.Value)}");

    /// <summary>Rounds to a multiple of <paramref name="q"/>, kept inside [low, high], without float dust.</summary>
    private protected static double Quantize(double value, double q, double low, double high)
    {
        var k = Math.Round(value / q);
        if (k * q > high + 1e-12)
        {
            k = Math.Floor(high / q);
        }

        if (k * q < low - 1e-12)
        {
            k = Math.Ceiling(low / q);
        }

        return Math.Round(k * q, 12);
    }
}

/// <summary>A float uniform in [low, high).</summary>
public sealed record UniformDomain(double Low, double High) : Domain
{
    public override string Primitive => "uniform";

    public override string Usage => "uniform: [low, high] with low < high";

    public override ParamValue Sample(Random random) => ParamValue.Float(Low + (random.NextDouble() * (High - Low)));

    public override IEnumerable<string> Validate()
    {
        foreach (var e in CheckFinite(("low", Low), ("high", High)))
        {
            yield return e;
        }

        if (Low == High)
        {
            yield return $"the range is empty (low = high = {F(Low)}); expected [low, high] with low < high";
        }
        else if (Low > High)
        {
            yield return $"the range is inverted (low {F(Low)} > high {F(High)}); expected [low, high] with low < high";
        }
    }
}

/// <summary>A float uniform in [low, high], rounded to a multiple of q.</summary>
public sealed record QUniformDomain(double Low, double High, double Q) : Domain
{
    public override string Primitive => "quniform";

    public override string Usage => "quniform: [low, high, q] with low < high and q > 0";

    public override ParamValue Sample(Random random) => ParamValue.Float(Quantize(Low + (random.NextDouble() * (High - Low)), Q, Low, High));

    public override IEnumerable<string> Validate() =>
        new UniformDomain(Low, High).Validate().Concat(QuantumErrors(Q, High - Low));

    internal static IEnumerable<string> QuantumErrors(double q, double width)
    {
        if (!(q > 0) || !double.IsFinite(q))
        {
            yield return $"q must be a positive number, got {F(q)}";
        }
        else if (q > width)
        {
            yield return $"q ({F(q)}) is wider than the range ({F(width)}), so only one value can be drawn";
        }
    }
}

/// <summary>A float whose logarithm is uniform in [log low, log high).</summary>
public sealed record LogUniformDomain(double Low, double High) : Domain
{
    public override string Primitive => "loguniform";

    public override string Usage => "loguniform: [low, high] with 0 < low < high";

    public override ParamValue Sample(Random random) =>
        ParamValue.Float(Math.Exp(Math.Log(Low) + (random.NextDouble() * (Math.Log(High) - Math.Log(Low)))));

    public override IEnumerable<string> Validate() => LogRangeErrors(Low, High);

    internal static IEnumerable<string> LogRangeErrors(double low, double high)
    {
        var errors = new UniformDomain(low, high).Validate().ToList();
        if (low <= 0 || high <= 0)
        {
            errors.Insert(0, $"a log range must be above zero (got [{F(low)}, {F(high)}]); expected [low, high] with 0 < low < high");
        }

        return errors;
    }
}

/// <summary>A log-uniform float rounded to a multiple of q.</summary>
public sealed record QLogUniformDomain(double Low, double High, double Q) : Domain
{
    public override string Primitive => "qloguniform";

    public override string Usage => "qloguniform: [low, high, q] with 0 < low < high and q > 0";

    public override ParamValue Sample(Random random) =>
        ParamValue.Float(Quantize(new LogUniformDomain(Low, High).Sample(random).AsDouble(), Q, Low, High));

    public override IEnumerable<string> Validate() =>
        LogUniformDomain.LogRangeErrors(Low, High).Concat(QUniformDomain.QuantumErrors(Q, High - Low));
}

/// <summary>A float drawn from a normal distribution (Ray's <c>randn</c>).</summary>
public sealed record NormalDomain(double Mean, double StandardDeviation) : Domain
{
    public override string Primitive => "normal";

    public override string Usage => "normal: [mean, sd] with sd > 0";

    public override ParamValue Sample(Random random)
    {
        // Box-Muller; 1 - NextDouble() is in (0, 1], so the logarithm is finite.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        var z = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        return ParamValue.Float(Mean + (StandardDeviation * z));
    }

    public override IEnumerable<string> Validate()
    {
        foreach (var e in CheckFinite(("mean", Mean), ("sd", StandardDeviation)))
        {
            yield return e;
        }

        if (!(StandardDeviation > 0))
        {
            yield return $"sd must be above zero, got {F(StandardDeviation)}";
        }
    }
}

/// <summary>An integer uniform in [low, high): the upper bound is exclusive, as in Ray.</summary>
public sealed record RandIntDomain(long Low, long High) : Domain
{
    public override string Primitive => "randint";

    public override string Usage => "randint: [low, high] with low < high (high is exclusive)";

    public override ParamValue Sample(Random random) => ParamValue.Integer(random.NextInt64(Low, High));

    public override IEnumerable<string> Validate() => IntRangeErrors(Low, High, exclusive: true);

    public override IReadOnlyList<ParamValue>? EnumerateValues() =>
        High - Low <= 10_000 ? Enumerable.Range(0, (int)(High - Low)).Select(i => ParamValue.Integer(Low + i)).ToArray() : null;

    internal static IEnumerable<string> IntRangeErrors(long low, long high, bool exclusive)
    {
        if (low == high && exclusive)
        {
            yield return $"the range is empty (low = high = {low}, and high is exclusive); expected [low, high] with low < high";
        }
        else if (low > high)
        {
            yield return $"the range is inverted (low {low} > high {high}); expected [low, high] with low < high";
        }
    }
}

/// <summary>An integer uniform in [low, high] rounded to a multiple of q; the upper bound is inclusive, as in Ray.</summary>
public sealed record QRandIntDomain(long Low, long High, long Q) : Domain
{
    public override string Primitive => "qrandint";

    public override string Usage => "qrandint: [low, high, q] with low < high and q > 0 (high is inclusive)";

    public override ParamValue Sample(Random random) =>
        ParamValue.Integer((long)Quantize(random.NextInt64(Low, High + 1), Q, Low, High));

    public override IEnumerable<string> Validate()
    {
        if (Low == High)
        {
            return [$"the range is empty (low = high = {Low}); expected [low, high] with low < high"];
        }

        return RandIntDomain.IntRangeErrors(Low, High, exclusive: false)
            .Concat(Q > 0 ? QUniformDomain.QuantumErrors(Q, High - Low) : [$"q must be a positive integer, got {Q}"]);
    }

    public override IReadOnlyList<ParamValue>? EnumerateValues()
    {
        var first = (long)Math.Ceiling(Low / (double)Q) * Q;
        var count = ((High - first) / Q) + 1;
        return count is > 0 and <= 10_000 ? Enumerable.Range(0, (int)count).Select(i => ParamValue.Integer(first + (i * Q))).ToArray() : null;
    }
}

/// <summary>An integer whose logarithm is uniform in [log low, log high), floored; high is exclusive.</summary>
public sealed record LogRandIntDomain(long Low, long High) : Domain
{
    public override string Primitive => "lograndint";

    public override string Usage => "lograndint: [low, high] with 0 < low < high (high is exclusive)";

    public override ParamValue Sample(Random random)
    {
        var value = (long)Math.Floor(Math.Exp(Math.Log(Low) + (random.NextDouble() * (Math.Log(High) - Math.Log(Low)))));
        return ParamValue.Integer(Math.Clamp(value, Low, High - 1));
    }

    public override IEnumerable<string> Validate()
    {
        if (Low <= 0 || High <= 0)
        {
            return [$"a log range must be above zero (got [{Low}, {High}]); expected [low, high] with 0 < low < high"];
        }

        return RandIntDomain.IntRangeErrors(Low, High, exclusive: true);
    }
}

/// <summary>One of a list of values, each equally likely.</summary>
public sealed record ChoiceDomain(IReadOnlyList<ParamValue> Values) : Domain
{
    public override string Primitive => "choice";

    public override string Usage => "choice: [value, ...] with at least one value";

    public override ParamValue Sample(Random random) => Values[random.Next(Values.Count)];

    public override IEnumerable<string> Validate() => ListErrors(Values);

    public override IReadOnlyList<ParamValue> EnumerateValues() => Values;

    public bool Equals(ChoiceDomain? other) => other is not null && Values.SequenceEqual(other.Values);

    public override int GetHashCode() => Values.Count;

    internal static IEnumerable<string> ListErrors(IReadOnlyList<ParamValue> values)
    {
        if (values.Count == 0)
        {
            yield return "the list is empty; give at least one value";
        }

        var duplicate = values.GroupBy(v => v).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            yield return $"the value {duplicate.Key} is listed more than once";
        }
    }
}

/// <summary>Every value of a list, each in its own trial (Ray's <c>grid_search</c>); grid dimensions multiply.</summary>
public sealed record GridDomain(IReadOnlyList<ParamValue> Values) : Domain
{
    public override string Primitive => "grid";

    public override string Usage => "grid: [value, ...] with at least one value";

    /// <summary>A grid value is never drawn at random; the variant generator enumerates it.</summary>
    public override ParamValue Sample(Random random) => Values[random.Next(Values.Count)];

    public override IEnumerable<string> Validate() => ChoiceDomain.ListErrors(Values);

    public override IReadOnlyList<ParamValue> EnumerateValues() => Values;

    public bool Equals(GridDomain? other) => other is not null && Values.SequenceEqual(other.Values);

    public override int GetHashCode() => Values.Count;
}
