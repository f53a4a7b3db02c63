using Tuner.Core.Search;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class SearcherWrapperTests
{
    /// <summary>Suggests x = 1, 2, 3, ... and records what it learns.</summary>
    private sealed class Counting(int total) : ISearcher
    {
        private int _next;

        public List<(string TrialId, double? Value, bool Failed)> Learned { get; } = [];

        public bool IsExhausted => _next >= total;

        public bool TrySuggest(string trialId, out TrialConfig config)
        {
            config = IsExhausted ? TrialConfig.Empty : new TrialConfig([new("x", ++_next)]);
            return !config.Equals(TrialConfig.Empty);
        }

        public void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed) =>
            Learned.Add((trialId, lastMetrics?["loss"], failed));
    }

    [Fact]
    public void Repeater_RunsEachConfigNTimes_AndTeachesTheMeanOnceAllCopiesEnd()
    {
        var inner = new Counting(2);
        var repeater = new Repeater(inner, 3, "loss");
        var configs = new List<long>();
        for (var i = 1; repeater.TrySuggest($"t{i}", out var config); i++)
        {
            configs.Add(config["x"].AsInteger());
        }

        repeater.OnTrialComplete("t1", new Dictionary<string, double> { ["loss"] = 1 }, failed: false);
        repeater.OnTrialComplete("t3", new Dictionary<string, double> { ["loss"] = 3 }, failed: false);
        var beforeLast = inner.Learned.Count;
        repeater.OnTrialComplete("t2", null, failed: true);
        repeater.OnTrialComplete("t4", null, failed: true);
        repeater.OnTrialComplete("t5", null, failed: true);
        repeater.OnTrialComplete("t6", new Dictionary<string, double> { ["other"] = 1 }, failed: false);

        Assert.Equal([1L, 1, 1, 2, 2, 2], configs);
        Assert.True(repeater.IsExhausted);
        Assert.Equal(0, beforeLast);

        // The failed copy is left out of the mean; a group with no value at all counts as failed.
        Assert.Equal([("t1", (double?)2.0, false), ("t4", null, true)], inner.Learned);
    }

    [Fact]
    public void ConcurrencyLimiter_HoldsBackSuggestionsUntilATrialEnds()
    {
        var inner = new Counting(10);
        var limiter = new ConcurrencyLimiter(inner, 2);

        var first = limiter.TrySuggest("t1", out _);
        var second = limiter.TrySuggest("t2", out _);
        var third = limiter.TrySuggest("t3", out _);
        limiter.OnTrialComplete("t1", new Dictionary<string, double> { ["loss"] = 1 }, failed: false);
        var afterOne = limiter.TrySuggest("t3", out var config);

        Assert.Equal((true, true, false, true), (first, second, third, afterOne));
        Assert.Equal(3, config["x"].AsInteger());
        Assert.False(limiter.IsExhausted);
    }

    [Fact]
    public void TheSpec_WrapsTheSearcher_AndCountsRepeatedTrials()
    {
        var spec = SpecParser.Parse("name: x\ntrainable: branin\nmetric: value\nsamples: 4\nsearch: { algorithm: tpe, repeat: 3, max_concurrent: 2 }\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }\n");

        Assert.Equal((3, (int?)2), (spec.Search.Repeat, spec.Search.MaxConcurrent));
        Assert.Equal(12, VariantGenerator.CountTrials(spec));
        Assert.IsType<ConcurrencyLimiter>(SearcherFactory.Create(spec));
        Assert.Equal(spec.Search, SpecParser.ParseStructure(SpecWriter.ToJson(spec)).Search);
        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse("name: x\ntrainable: noop\nmetric: value\nsearch: { repeat: 0 }\n"));
        Assert.Contains(ex.Errors, e => e.Path == "search.repeat" && e.Message == "must be at least 1, got 0");
    }
}
