using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class SpecParserTests
{
    private const string Valid = """
        name: branin-random
        trainable: branin
        params: { max_iterations: 50 }
        metric: value
        mode: min
        samples: 200
        max_concurrent: 4
        search: { algorithm: random, seed: 1 }
        scheduler: { algorithm: fifo }
        stop: { training_iteration: 10, metric_threshold: 0.5, time_budget_s: 60 }
        resources: { cpu: 1, gpu: 0 }
        space:
          x1: { uniform: [-5, 10] }
          x2: { quniform: [0, 15, 0.5] }
        """;

    [Fact]
    public void Parse_ReadsEveryField()
    {
        var spec = SpecParser.Parse(Valid);

        Assert.Equal("branin-random", spec.Name);
        Assert.Equal("branin", spec.Trainable);
        Assert.Equal(50, spec.Params["max_iterations"].AsInteger());
        Assert.Equal(OptimizationMode.Min, spec.Mode);
        Assert.Equal(200, spec.Samples);
        Assert.Equal(4, spec.MaxConcurrent);
        Assert.Equal(("random", 1), (spec.Search.Algorithm, spec.Search.Seed));
        Assert.Equal(10, spec.Stop.TrainingIteration);
        Assert.Equal(0.5, spec.Stop.MetricThreshold);
        Assert.Equal(60, spec.Stop.TimeBudgetS);
        Assert.Equal(new UniformDomain(-5, 10), spec.Space["x1"]);
        Assert.Equal(new QUniformDomain(0, 15, 0.5), spec.Space["x2"]);
        Assert.Equal(["x1", "x2"], spec.Space.Names);
    }

    [Fact]
    public void Parse_ReadsEveryPrimitive()
    {
        var spec = SpecParser.Parse("""
            name: all
            trainable: noop
            metric: value
            space:
              a: { uniform: [0, 1] }
              b: { quniform: [0, 1, 0.25] }
              c: { loguniform: [0.0001, 0.1] }
              d: { qloguniform: [1, 100, 5] }
              e: { normal: [0, 2] }
              f: { randint: [1, 5] }
              g: { qrandint: [0, 12, 3] }
              h: { lograndint: [16, 256] }
              i: { choice: [relu, 0.5, 3, true, "8"] }
              j: { grid: [1, 2, 3] }
            """);

        Assert.IsType<LogUniformDomain>(spec.Space["c"]);
        Assert.Equal(new QLogUniformDomain(1, 100, 5), spec.Space["d"]);
        Assert.Equal(new NormalDomain(0, 2), spec.Space["e"]);
        Assert.Equal(new RandIntDomain(1, 5), spec.Space["f"]);
        Assert.Equal(new QRandIntDomain(0, 12, 3), spec.Space["g"]);
        Assert.Equal(new LogRandIntDomain(16, 256), spec.Space["h"]);
        var choice = Assert.IsType<ChoiceDomain>(spec.Space["i"]);
        Assert.Equal(
            [ParamKind.String, ParamKind.Float, ParamKind.Integer, ParamKind.Boolean, ParamKind.String],
            choice.Values.Select(v => v.Kind));
        Assert.Equal(3, Assert.IsType<GridDomain>(spec.Space["j"]).Values.Count);
    }

    [Fact]
    public void Defaults_FollowRay()
    {
        var spec = SpecParser.Parse("name: x\ntrainable: noop\nmetric: value\n");

        Assert.Equal(OptimizationMode.Min, spec.Mode);
        Assert.Equal(1, spec.Samples);
        Assert.Equal(1, spec.MaxConcurrent);
        Assert.Equal("random", spec.Search.Algorithm);
        Assert.Equal("fifo", spec.Scheduler.Algorithm);
        Assert.Equal(1, spec.Resources.Cpu);
        Assert.Equal(0, spec.Resources.Gpu);
        Assert.Empty(spec.Space);
    }

    [Fact]
    public void SpecWriter_RoundTripsThroughTheParser()
    {
        var spec = SpecParser.Parse(Valid);

        var again = SpecParser.Parse(SpecWriter.ToJson(spec));

        Assert.Equal(SpecWriter.ToJson(spec), SpecWriter.ToJson(again));
        Assert.Equal(spec.Space["x2"], again.Space["x2"]);
        Assert.Equal(ParamKind.Integer, again.Params["max_iterations"].Kind);
    }

    [Fact]
    public void SpecWriter_KeepsWholeFloatsFloats()
    {
        var spec = new ExperimentSpec { Name = "f", Trainable = "noop", Metric = "value", Params = new([new("lr", 3.0)]) };

        var again = SpecParser.ParseStructure(SpecWriter.ToJson(spec));

        Assert.Equal(ParamKind.Float, again.Params["lr"].Kind);
    }

    public static TheoryData<string, string, string, string> InvalidSpecs => new()
    {
        // description, YAML, field path, a fragment of the message
        { "unknown top-level key", "name: a\ntrainable: branin\nmetric: value\nsampels: 3\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "sampels", "did you mean 'samples'" },
        { "wrong type", "name: a\ntrainable: branin\nmetric: value\nsamples: ten\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "samples", "expected a whole number" },
        { "fraction where a whole number is needed", "name: a\ntrainable: branin\nmetric: value\nmax_concurrent: 2.5\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "max_concurrent", "expected a whole number" },
        { "missing metric", "name: a\ntrainable: branin\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "metric", "is required" },
        { "bad mode", "name: a\ntrainable: branin\nmetric: value\nmode: minimum\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "mode", "min, max" },
        { "inverted range", "name: a\ntrainable: branin\nmetric: value\nspace: { x1: { uniform: [10, -5] }, x2: { uniform: [0, 15] } }", "space.x1.uniform", "inverted" },
        { "empty range", "name: a\ntrainable: branin\nmetric: value\nspace: { x1: { uniform: [1, 1] }, x2: { uniform: [0, 15] } }", "space.x1.uniform", "empty" },
        { "empty integer range", "name: a\ntrainable: noop\nmetric: value\nspace: { layers: { randint: [3, 3] } }", "space.layers.randint", "high is exclusive" },
        { "log range touching zero", "name: a\ntrainable: noop\nmetric: value\nspace: { lr: { loguniform: [0, 0.1] } }", "space.lr.loguniform", "above zero" },
        { "empty choices", "name: a\ntrainable: noop\nmetric: value\nspace: { act: { choice: [] } }", "space.act.choice", "at least one value" },
        { "unknown primitive", "name: a\ntrainable: noop\nmetric: value\nspace: { lr: { logunifrom: [0.001, 0.1] } }", "space.lr.logunifrom", "did you mean 'loguniform'" },
        { "wrong arity", "name: a\ntrainable: noop\nmetric: value\nspace: { lr: { uniform: [0.1] } }", "space.lr.uniform", "expected 2 arguments" },
        { "non-positive q", "name: a\ntrainable: noop\nmetric: value\nspace: { x: { quniform: [0, 1, 0] } }", "space.x.quniform", "q must be a positive" },
        { "non-positive sd", "name: a\ntrainable: noop\nmetric: value\nspace: { x: { normal: [0, -1] } }", "space.x.normal", "sd must be above zero" },
        { "unknown trainable", "name: a\ntrainable: resnet\nmetric: value", "trainable", "known: ants_bees, branin, gestures, hartmann6, noop, sentiment, sleep" },
        { "metric the trainable never reports", "name: a\ntrainable: branin\nmetric: loss\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "metric", "it reports: value" },
        { "missing required parameter", "name: a\ntrainable: branin\nmetric: value\nspace: { x1: { uniform: [-5, 10] } }", "space", "needs 'x2'" },
        { "parameter the trainable does not read", "name: a\ntrainable: branin\nmetric: value\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] }, x3: { uniform: [0, 1] } }", "space.x3", "does not read 'x3'" },
        { "fixed and tuned at once", "name: a\ntrainable: branin\nmetric: value\nparams: { x1: 1 }\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "params.x1", "either fixed" },
        { "unknown search algorithm", "name: a\ntrainable: noop\nmetric: value\nsearch: { algorithm: bayes }", "search.algorithm", "random, grid" },
        { "grid over a continuous range", "name: a\ntrainable: noop\nmetric: value\nsearch: { algorithm: grid }\nspace: { lr: { loguniform: [0.001, 0.1] } }", "space.lr.loguniform", "grid search cannot enumerate" },
        { "unknown scheduler", "name: a\ntrainable: noop\nmetric: value\nscheduler: { algorithm: pbt2 }", "scheduler.algorithm", "allowed values: fifo, asha, asha_promotion, hyperband, bohb, median, pbt" },
        { "unknown stop key", "name: a\ntrainable: noop\nmetric: value\nstop: { iterations: 3 }", "stop.iterations", "training_iteration" },
        { "zero samples", "name: a\ntrainable: noop\nmetric: value\nsamples: 0", "samples", "at least 1" },
        { "negative time budget", "name: a\ntrainable: noop\nmetric: value\nstop: { time_budget_s: -1 }", "stop.time_budget_s", "positive" },
        { "negative resources", "name: a\ntrainable: noop\nmetric: value\nresources: { cpu: -1 }", "resources.cpu", "zero or more" },
        { "name with a path separator", "name: ../etc\ntrainable: noop\nmetric: value", "name", "letters, digits" },
        { "a fixed value in space", "name: a\ntrainable: noop\nmetric: value\nspace: { lr: 0.1 }", "space.lr", "fixed values go under params" },
        { "not YAML", "name: [unclosed\ntrainable: noop", "(document)", "not valid YAML" },
        { "not a mapping", "- a\n- b", "(document)", "must be a mapping" },
        { "empty document", "", "(document)", "empty" },
        { "duplicate key", "name: a\nname: b\ntrainable: noop\nmetric: value", "(document)", "Duplicate key" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void Parse_RejectsInvalidSpecs_NamingTheField(string description, string yaml, string path, string fragment)
    {
        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse(yaml));

        var error = Assert.Single(ex.Errors, e => e.Path == path);
        Assert.True(error.Message.Contains(fragment, StringComparison.Ordinal), $"{description}: '{error}' lacks '{fragment}'");
    }

    [Fact]
    public void Loggers_TensorBoardByDefault_MlflowWhenAServerIsNamed_AndBadValuesNamed()
    {
        Assert.True(SpecParser.Parse("name: x\ntrainable: noop\nmetric: value\n").Loggers.TensorBoard);
        var spec = SpecParser.Parse("name: x\ntrainable: noop\nmetric: value\nloggers:\n  tensorboard: false\n  mlflow: { tracking_uri: 'http://mlflow:5000', experiment: tuned }\n");
        Assert.False(spec.Loggers.TensorBoard);
        Assert.Equal(("http://mlflow:5000", "tuned"), (spec.Loggers.Mlflow!.TrackingUri, spec.Loggers.Mlflow.Experiment));
        Assert.Equal(SpecWriter.ToJson(spec), SpecWriter.ToJson(SpecParser.Parse(SpecWriter.ToJson(spec))));

        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse("name: x\ntrainable: noop\nmetric: value\nloggers:\n  tensorboard: maybe\n  mlflow: { tracking_uri: 'ftp://x', experment: y }\n"));
        Assert.Contains(ex.Errors, e => e.Path == "loggers.tensorboard" && e.Message.Contains("true or false", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Path == "loggers.mlflow.experment" && e.Message.Contains("did you mean 'experiment'", StringComparison.Ordinal));
        var uri = Assert.Throws<SpecException>(() => SpecParser.Parse("name: x\ntrainable: noop\nmetric: value\nloggers:\n  mlflow: { tracking_uri: 'ftp://x' }\n"));
        Assert.Contains(uri.Errors, e => e.Path == "loggers.mlflow.tracking_uri" && e.Message.Contains("http(s)", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_ReportsEveryProblemWithItsLine()
    {
        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse("name: a\ntrainable: noop\nmetric: value\nmode: up\nspace:\n  lr: { loguniform: [0, 1] }\n"));

        Assert.Equal(["mode", "space.lr.loguniform"], ex.Errors.Select(e => e.Path).Order());
        Assert.Equal(4, ex.Errors.Single(e => e.Path == "mode").Line);
        Assert.Equal(6, ex.Errors.Single(e => e.Path == "space.lr.loguniform").Line);
    }

    [Fact]
    public void Validator_ChecksSpecsBuiltInCode()
    {
        var spec = new ExperimentSpec
        {
            Name = "code",
            Trainable = "noop",
            Metric = "value",
            Space = new() { ["lr"] = Domain.LogUniform(0.1, 0.01) },
        };

        var error = Assert.Single(SpecValidator.Validate(spec));

        Assert.Equal("space.lr.loguniform", error.Path);
        Assert.Contains("inverted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Examples_AreValid()
    {
        var examples = Directory.GetFiles(Path.Combine(RepoRoot.Path, "examples"), "*.yaml");

        Assert.NotEmpty(examples);
        foreach (var file in examples)
        {
            SpecParser.ParseFile(file);
        }
    }

    [Fact]
    public void Stoppers_ParseWithRaysDefaults_RoundTrip_AndBadValuesNameTheirField()
    {
        var spec = SpecParser.Parse("name: p\ntrainable: noop\nmetric: value\nstop:\n  trial_plateau: { std: 0.05, grace_period: 2 }\n  experiment_plateau: { metric: acc, mode: max, top: 5, patience: 3 }\n");

        Assert.Equal(new TrialPlateauSpec { Std = 0.05, GracePeriod = 2 }, spec.Stop.TrialPlateau);
        Assert.Equal((4, null, (OptimizationMode?)null), (spec.Stop.TrialPlateau!.NumResults, spec.Stop.TrialPlateau.Metric, spec.Stop.TrialPlateau.Mode));
        Assert.Equal(new ExperimentPlateauSpec { Metric = "acc", Mode = OptimizationMode.Max, Top = 5, Patience = 3, Std = 0.001 }, spec.Stop.ExperimentPlateau);
        Assert.Equal(SpecWriter.ToJson(spec), SpecWriter.ToJson(SpecParser.Parse(SpecWriter.ToJson(spec))));

        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse(
            "name: p\ntrainable: noop\nmetric: value\nstop:\n  trial_plateau: { std: 0, num_results: 1, grace_period: -1, mode: up, window: 3 }\n  experiment_plateau: { top: 1, std: -1, patience: -2 }\n"));
        Assert.Equal(
            ["stop.experiment_plateau.patience", "stop.experiment_plateau.std", "stop.experiment_plateau.top", "stop.trial_plateau.grace_period", "stop.trial_plateau.mode", "stop.trial_plateau.num_results", "stop.trial_plateau.std", "stop.trial_plateau.window"],
            ex.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.Contains("min, max", ex.Errors.Single(e => e.Path == "stop.trial_plateau.mode").Message, StringComparison.Ordinal);
    }
}
