using Tuner.Core.Experiments;

namespace Tuner.Core.Tests;

public sealed class CompactMetricsTests
{
    [Fact]
    public void ACompactCopy_AnswersAsTheDictionaryDid_AndTrialsWithTheSameNamesShareThem()
    {
        var shared = new List<string[]>();
        var first = CompactMetrics.Of(new Dictionary<string, double> { ["value"] = 1.5, ["loss"] = double.NaN, ["acc"] = 0.25 }, shared);
        var second = CompactMetrics.Of(new Dictionary<string, double> { ["value"] = 2, ["loss"] = 3, ["acc"] = 4 }, shared);
        var other = CompactMetrics.Of(new Dictionary<string, double> { ["acc"] = 5, ["value"] = 6 }, shared);

        Assert.Equal([new("value", 1.5), new("loss", double.NaN), new("acc", 0.25)], first.ToList());
        Assert.Equal(0.25, first["acc"]);
        Assert.True(first.TryGetValue("loss", out var loss) && double.IsNaN(loss));
        Assert.False(first.TryGetValue("missing", out _));
        Assert.Throws<KeyNotFoundException>(() => first["missing"]);
        Assert.True(second.ContainsKey("value"));
        Assert.Equal(3, second.Count);
        Assert.Equal(["acc", "value"], other.Keys);
        Assert.Equal([5.0, 6.0], other.Values);

        // Two name sets seen: the second trial reused the first's names, the third (another order) added its own.
        Assert.Equal(2, shared.Count);
        Assert.Same(first.Keys, second.Keys);
        Assert.Same(first, CompactMetrics.Of(first, shared));
    }
}
