using Tuner.Core.Experiments;
using Tuner.Core.Search;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Trainables;

namespace Tuner.Core.Tests;

public sealed class SearcherJournalTests
{
    private static ExperimentSpec Spec(SearchSpec search, SchedulerSpec? scheduler = null) => new()
    {
        Name = "journal",
        Trainable = "branin",
        Metric = "value",
        Samples = 40,
        Search = search,
        Scheduler = scheduler ?? new SchedulerSpec(),
        Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
    };

    /// <summary>Runs <paramref name="steps"/> trials two at a time, reporting intermediate results at iterations 1 and 3.</summary>
    private static void Drive(ISearcher searcher, int from, int steps)
    {
        var running = new Queue<(string Id, TrialConfig Config)>();
        for (var i = from; i < from + steps; i++)
        {
            if (!searcher.TrySuggest($"t{i}", out var config))
            {
                break;
            }

            running.Enqueue(($"t{i}", config));
            if (running.Count < 2)
            {
                continue;
            }

            var (id, done) = running.Dequeue();
            var value = BraninTrainable.Evaluate(done["x1"].AsDouble(), done["x2"].AsDouble());
            foreach (var t in new[] { 1, 3 })
            {
                searcher.OnTrialResult(id, new TrialResult(t, t, 0, new Dictionary<string, double> { ["value"] = value + (10.0 / t) }));
            }

            searcher.OnTrialComplete(id, i % 7 == 0 ? null : new Dictionary<string, double> { ["value"] = value }, failed: i % 7 == 0);
        }
    }

    public static TheoryData<string> Searchers => ["random", "tpe", "gp", "bohb", "tpe-repeat-limit"];

    [Theory]
    [MemberData(nameof(Searchers))]
    public void ARestoredSearcher_SuggestsExactlyWhatTheOriginalWould(string name)
    {
        var spec = name switch
        {
            "bohb" => Spec(new SearchSpec { Algorithm = "bohb", Seed = 3 }, new SchedulerSpec { Algorithm = "bohb", MaxT = 9, ReductionFactor = 3 }),
            "tpe-repeat-limit" => Spec(new SearchSpec { Algorithm = "tpe", Seed = 3, Repeat = 2, MaxConcurrent = 3 }),
            _ => Spec(new SearchSpec { Algorithm = name, Seed = 3 }),
        };
        var log = new StringWriter();
        var original = new SearcherJournal(SearcherFactory.Create(spec), log);
        Drive(original, 0, 25);

        var restored = SearcherJournal.Restore(spec, log.ToString().Split('\n'), log: null);

        // From here on both are told the same and must suggest the same.
        var fromOriginal = new List<TrialConfig>();
        var fromRestored = new List<TrialConfig>();
        for (var i = 100; i < 110; i++)
        {
            Assert.Equal(original.TrySuggest($"t{i}", out var a), restored.TrySuggest($"t{i}", out var b));
            fromOriginal.Add(a);
            fromRestored.Add(b);
            original.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["value"] = i }, failed: false);
            restored.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["value"] = i }, failed: false);
        }

        Assert.Equal(fromOriginal.Select(c => (c["x1"].AsDouble(), c["x2"].AsDouble())), fromRestored.Select(c => (c["x1"].AsDouble(), c["x2"].AsDouble())));
        Assert.Equal(original.IsExhausted, restored.IsExhausted);
    }

    [Fact]
    public void AJournalThatNoLongerReplays_SaysWhichTrialDiffers()
    {
        var log = new StringWriter();
        var original = new SearcherJournal(SearcherFactory.Create(Spec(new SearchSpec { Algorithm = "tpe", Seed = 1 })), log);
        Drive(original, 0, 5);

        var ex = Assert.Throws<InvalidDataException>(() => SearcherJournal.Restore(Spec(new SearchSpec { Algorithm = "tpe", Seed = 2 }), log.ToString().Split('\n'), null));

        Assert.StartsWith("searcher journal line 1: trial t0 was suggested {\"x1\":", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("the spec or the searcher changed since it was written", ex.Message, StringComparison.Ordinal);
    }
}
