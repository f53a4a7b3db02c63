using Tuner.Core.Search;
using Tuner.Core.Search.CmaEs;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class CmaEsSearcherTests
{
    private static ExperimentSpec Spec(SearchSpace space, int samples, int seed = 1, string restarts = "ipop", int? popsize = null) => new()
    {
        Name = "cma",
        Trainable = "fn",
        Metric = "loss",
        Samples = samples,
        Search = new SearchSpec { Algorithm = "cmaes", Seed = seed, Restarts = restarts, Popsize = popsize },
        Space = space,
    };

    private static SearchSpace Box(int n, double low, double high)
    {
        var space = new SearchSpace();
        for (var i = 0; i < n; i++)
        {
            space[$"x{i}"] = Domain.Uniform(low, high);
        }

        return space;
    }

    /// <summary>Sequential trials of <paramref name="f"/>; the best value.</summary>
    private static double Minimise(ISearcher searcher, Func<TrialConfig, double> f)
    {
        var best = double.PositiveInfinity;
        for (var i = 0; searcher.TrySuggest($"t{i}", out var config); i++)
        {
            var value = f(config);
            best = Math.Min(best, value);
            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["loss"] = value }, failed: false);
        }

        return best;
    }

    private static double Sphere(TrialConfig c, double shift = 1) => c.Values.Sum(v => (v.AsDouble() - shift) * (v.AsDouble() - shift));

    [Fact]
    public void Eigen_DecomposesASymmetricMatrix()
    {
        double[,] c = { { 4, 1, 0.5 }, { 1, 3, 0.2 }, { 0.5, 0.2, 2 } };
        var (b, d) = CmaEvolution.Eigen(c);

        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                var rebuilt = Enumerable.Range(0, 3).Sum(k => b[i, k] * d[k] * d[k] * b[j, k]);
                Assert.Equal(c[i, j], rebuilt, 1e-9);
                var orthogonal = Enumerable.Range(0, 3).Sum(k => b[k, i] * b[k, j]);
                Assert.Equal(i == j ? 1 : 0, orthogonal, 1e-9);
            }
        }
    }

    [Fact]
    public void ConvergesOnAShiftedSphere()
    {
        var searcher = new CmaEsSearcher(Spec(Box(5, -5, 5), 600, restarts: "none"));

        var best = Minimise(searcher, c => Sphere(c));

        Assert.True(best < 1e-4, $"best {best}");
        Assert.Equal(CmaEsSearcher.DefaultPopsize(5), searcher.Popsize);
        Assert.InRange(searcher.Generation, 600 / searcher.Popsize - 1, 600 / searcher.Popsize);
    }

    [Fact]
    public void Ipop_RestartsAConvergedRun_WithTwiceThePopulation()
    {
        // A flat function: the fitness range is zero, so every run stops at the flat-fitness criterion and starts again.
        var searcher = new CmaEsSearcher(Spec(Box(2, 0, 1), 400, popsize: 4));

        Minimise(searcher, _ => 1.0);

        Assert.True(searcher.Restarts >= 2, $"restarts {searcher.Restarts}");
        Assert.Equal(4 << searcher.Restarts, searcher.Popsize);
        var none = new CmaEsSearcher(Spec(Box(2, 0, 1), 400, restarts: "none", popsize: 4));
        Minimise(none, _ => 1.0);
        Assert.Equal((0, 4), (none.Restarts, none.Popsize));
    }

    [Fact]
    public void AGenerationIsToldOnceItsPopulationCompletes_AndLateTrialsOfAnOldOneTeachNothing()
    {
        var searcher = new CmaEsSearcher(Spec(Box(3, 0, 1), 100, popsize: 4));
        var ids = Enumerable.Range(0, 6).Select(i => $"t{i}").ToArray();
        foreach (var id in ids)
        {
            Assert.True(searcher.TrySuggest(id, out _));
        }

        for (var i = 0; i < 3; i++)
        {
            searcher.OnTrialComplete(ids[i], new Dictionary<string, double> { ["loss"] = i }, failed: false);
        }

        // A failed one does not count; the fourth completion makes the generation.
        searcher.OnTrialComplete(ids[3], null, failed: true);
        Assert.Equal(0, searcher.Generation);
        searcher.OnTrialComplete(ids[4], new Dictionary<string, double> { ["loss"] = 4 }, failed: false);
        Assert.Equal(1, searcher.Generation);
        searcher.OnTrialComplete(ids[5], new Dictionary<string, double> { ["loss"] = 5 }, failed: false);
        Assert.Equal(1, searcher.Generation);
    }

    [Fact]
    public void LogAndIntegerDimensions_StayInTheirDomains_IntegersRounded()
    {
        var space = new SearchSpace { ["lr"] = Domain.LogUniform(1e-5, 1e-1), ["units"] = Domain.RandInt(8, 129), ["p"] = Domain.QUniform(0, 0.5, 0.1) };
        var searcher = SearcherFactory.Create(Spec(space, 200, seed: 3) with { Params = new([new("epochs", 3)]) });

        // The best is lr 1e-3 and units 100: distances on the log axis and in units.
        var best = Minimise(searcher, c =>
        {
            Assert.InRange(c["lr"].AsDouble(), 1e-5, 1e-1);
            Assert.Equal(ParamKind.Integer, c["units"].Kind);
            Assert.InRange(c["units"].AsInteger(), 8, 128);
            Assert.Equal(Math.Round(c["p"].AsDouble(), 1), c["p"].AsDouble(), 12);
            Assert.Equal(3, c["epochs"].AsInteger());
            return Math.Pow(Math.Log10(c["lr"].AsDouble()) + 3, 2) + Math.Pow((c["units"].AsInteger() - 100) / 10.0, 2);
        });

        Assert.True(best < 0.05, $"best {best}");
    }

    [Fact]
    public void BadSettings_NameTheirField()
    {
        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse(
            "name: c\ntrainable: { command: [python3, t.py] }\nmetric: loss\nsearch: { algorithm: cmaes, sigma0: 2, popsize: 1, restarts: bipop }\n"
            + "space:\n  x: { uniform: [0, 1] }\n  act: { choice: [relu, tanh] }\n"));

        Assert.Equal(["search.popsize", "search.restarts", "search.sigma0", "space.act"], ex.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.Contains("cmaes models numeric dimensions only", ex.Errors.Single(e => e.Path == "space.act").Message, StringComparison.Ordinal);
        Assert.Contains("ipop, none", ex.Errors.Single(e => e.Path == "search.restarts").Message, StringComparison.Ordinal);

        var other = Assert.Throws<SpecException>(() => SpecParser.Parse(
            "name: c\ntrainable: { command: [python3, t.py] }\nmetric: loss\nsearch: { algorithm: tpe, popsize: 8 }\nspace:\n  x: { uniform: [0, 1] }\n"));
        Assert.Equal("is a setting of search.algorithm cmaes (got tpe)", Assert.Single(other.Errors).Message);

        var spec = SpecParser.Parse("name: c\ntrainable: { command: [python3, t.py] }\nmetric: loss\nsearch: { algorithm: cmaes, sigma0: 0.3, popsize: 12, restarts: none }\nspace:\n  x: { uniform: [0, 1] }\n");
        Assert.Equal((0.3, 12, "none"), (spec.Search.Sigma0, spec.Search.Popsize, spec.Search.Restarts));
        Assert.Equal(SpecWriter.ToJson(spec), SpecWriter.ToJson(SpecParser.Parse(SpecWriter.ToJson(spec))));
    }
}
