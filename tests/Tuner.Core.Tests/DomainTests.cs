using Tuner.Core.Space;

namespace Tuner.Core.Tests;

public sealed class DomainTests
{
    private const int Draws = 20_000;

    private static List<ParamValue> Draw(Domain domain, int seed = 42)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, Draws).Select(_ => domain.Sample(random)).ToList();
    }

    [Fact]
    public void Uniform_StaysInRangeAndSpreadsEvenly()
    {
        var values = Draw(Domain.Uniform(-5, 10)).Select(v => v.AsDouble()).ToList();

        Assert.All(values, v => Assert.InRange(v, -5, 10));
        Assert.InRange(values.Average(), 2.5 - 0.15, 2.5 + 0.15);
        Assert.InRange(values.Count(v => v < 0) / (double)Draws, 1 / 3.0 - 0.02, 1 / 3.0 + 0.02);
    }

    [Fact]
    public void QUniform_GivesMultiplesOfQInsideTheRange()
    {
        var values = Draw(Domain.QUniform(0.1, 1, 0.25)).Select(v => v.AsDouble()).ToList();

        Assert.All(values, v => Assert.InRange(v, 0.1, 1));
        Assert.Equal([0.25, 0.5, 0.75, 1.0], values.Distinct().Order());
    }

    [Fact]
    public void LogUniform_IsUniformInTheLogarithm()
    {
        var values = Draw(Domain.LogUniform(1e-4, 1e-1)).Select(v => v.AsDouble()).ToList();

        Assert.All(values, v => Assert.InRange(v, 1e-4, 1e-1));
        Assert.InRange(values.Count(v => v < 1e-3) / (double)Draws, 1 / 3.0 - 0.02, 1 / 3.0 + 0.02);
    }

    [Fact]
    public void QLogUniform_RoundsToQ()
    {
        var values = Draw(Domain.QLogUniform(1, 1000, 5)).Select(v => v.AsDouble()).ToList();

        Assert.All(values, v => Assert.Equal(0, v % 5, 9));
        Assert.All(values, v => Assert.InRange(v, 5, 1000));
    }

    [Fact]
    public void Normal_HasTheGivenMeanAndSpread()
    {
        var values = Draw(Domain.Normal(3, 2)).Select(v => v.AsDouble()).ToList();
        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);

        Assert.InRange(mean, 2.95, 3.05);
        Assert.InRange(sd, 1.95, 2.05);
    }

    [Fact]
    public void RandInt_ExcludesTheUpperBound()
    {
        var values = Draw(Domain.RandInt(2, 5));

        Assert.All(values, v => Assert.Equal(ParamKind.Integer, v.Kind));
        Assert.Equal([2L, 3L, 4L], values.Select(v => v.AsInteger()).Distinct().Order());
    }

    [Fact]
    public void QRandInt_IncludesTheUpperBoundAsInRay()
    {
        var values = Draw(Domain.QRandInt(0, 12, 3));

        Assert.Equal([0L, 3L, 6L, 9L, 12L], values.Select(v => v.AsInteger()).Distinct().Order());
    }

    [Fact]
    public void LogRandInt_FavoursSmallValuesAndExcludesTheUpperBound()
    {
        var values = Draw(Domain.LogRandInt(1, 100)).Select(v => v.AsInteger()).ToList();

        Assert.All(values, v => Assert.InRange(v, 1, 99));
        Assert.InRange(values.Count(v => v < 10) / (double)Draws, 0.45, 0.55);
    }

    [Fact]
    public void Choice_DrawsEveryValueAlike()
    {
        var values = Draw(Domain.Choice("relu", "tanh", "gelu"));

        foreach (var name in new[] { "relu", "tanh", "gelu" })
        {
            Assert.InRange(values.Count(v => v.AsString() == name) / (double)Draws, 1 / 3.0 - 0.02, 1 / 3.0 + 0.02);
        }
    }

    [Fact]
    public void Sampling_IsDeterministicForASeed()
    {
        var domain = Domain.LogUniform(1e-5, 1);

        Assert.Equal(Draw(domain, seed: 7), Draw(domain, seed: 7));
        Assert.NotEqual(Draw(domain, seed: 7), Draw(domain, seed: 8));
    }

    [Theory]
    [InlineData(1.5, "1.5")]
    [InlineData(3.0, "3.0")]
    [InlineData(-2.0, "-2.0")]
    public void ParamValue_WritesFloatsSoTheyReadBackAsFloats(double value, string json)
    {
        Assert.Equal(json, System.Text.Json.JsonSerializer.Serialize(ParamValue.Float(value)));
        Assert.Equal(ParamKind.Float, System.Text.Json.JsonSerializer.Deserialize<ParamValue>(json).Kind);
    }
}
