using System.Globalization;
using Tuner.Core.Space;
using Tuner.Core.Trainables;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tuner.Core.Spec;

/// <summary>
/// Reads an experiment spec from YAML (or JSON, which YAML contains) into an <see cref="ExperimentSpec"/>.
/// Collects every problem with its field path and line, then runs <see cref="SpecValidator"/>.
/// </summary>
public sealed partial class SpecParser
{
    private static readonly string[] TopLevelKeys =
        ["name", "trainable", "params", "metric", "mode", "samples", "max_concurrent", "search", "scheduler", "stop", "resources", "failure", "checkpoint", "loggers", "durability", "space"];

    private static readonly string[] Primitives =
        ["uniform", "quniform", "loguniform", "qloguniform", "normal", "randint", "qrandint", "lograndint", "choice", "grid"];

    private readonly List<SpecError> _errors = [];
    private readonly Dictionary<string, int> _lines = new(StringComparer.Ordinal);
    private readonly HashSet<string> _declaredParameters = new(StringComparer.Ordinal);

    private SpecParser()
    {
    }

    /// <summary>Parses and validates; throws <see cref="SpecException"/> listing every problem.</summary>
    public static ExperimentSpec Parse(string text, TrainableRegistry? registry = null) => Parse(text, registry, validate: true);

    /// <summary>Reads the structure only, skipping <see cref="SpecValidator"/>: for specs that were validated before they travelled.</summary>
    public static ExperimentSpec ParseStructure(string text) => Parse(text, null, validate: false);

    private static ExperimentSpec Parse(string text, TrainableRegistry? registry, bool validate)
    {
        var parser = new SpecParser();
        var spec = parser.ParseDocument(text);
        if (validate && spec is not null)
        {
            // Report the rules' findings too, except where the structure was already wrong: one problem, one message.
            var structural = parser._errors.Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
            parser._errors.AddRange(SpecValidator.Validate(spec, registry, parser._declaredParameters)
                .Where(e => !structural.Contains(e.Path))
                .Select(e => e with { Line = parser.LineOf(e.Path) }));
        }

        return parser._errors.Count == 0 ? spec! : throw new SpecException(parser._errors);
    }

    public static ExperimentSpec ParseFile(string path, TrainableRegistry? registry = null)
    {
        if (!File.Exists(path))
        {
            throw new SpecException("(file)", $"the spec file '{path}' does not exist");
        }

        var spec = Parse(File.ReadAllText(path), registry);

        // A custom trainable's paths are relative to the spec's own folder.
        return spec.Custom is { } custom ? spec with { Custom = custom.ResolvedFrom(Path.GetDirectoryName(Path.GetFullPath(path))!) } : spec;
    }

    private int? LineOf(string path)
    {
        for (var p = path; p.Length > 0; p = p.Contains('.', StringComparison.Ordinal) ? p[..p.LastIndexOf('.')] : string.Empty)
        {
            if (_lines.TryGetValue(p, out var line))
            {
                return line;
            }
        }

        return null;
    }

    private void Error(string path, YamlNode? node, string message) =>
        _errors.Add(new SpecError(path, message, node is null ? null : (int)node.Start.Line));

    private ExperimentSpec? ParseDocument(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            _errors.Add(new SpecError("(document)", $"not valid YAML: {ex.InnerException?.Message ?? ex.Message}", (int)ex.Start.Line));
            return null;
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet's scanner throws this on some malformed input (an unclosed flow sequence, for one).
            _errors.Add(new SpecError("(document)", $"not valid YAML: {ex.Message}"));
            return null;
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            _errors.Add(new SpecError("(document)", "the spec is empty; expected a mapping with name, trainable, metric, space, ..."));
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            Error("(document)", stream.Documents[1].RootNode, "the file holds more than one YAML document; put one experiment per file");
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            Error("(document)", stream.Documents[0].RootNode, "the spec must be a mapping of keys (name, trainable, metric, space, ...)");
            return null;
        }

        var fields = Fields(root, string.Empty, TopLevelKeys);
        foreach (var required in new[] { "name", "trainable", "metric" })
        {
            if (!fields.ContainsKey(required))
            {
                _errors.Add(new SpecError(required, $"is required ({Hint(required)})"));
            }
        }

        var defaults = new ExperimentSpec { Name = string.Empty, Trainable = string.Empty, Metric = string.Empty };
        var objectives = Objectives(fields);
        return new ExperimentSpec
        {
            Name = String(fields, "name") ?? string.Empty,
            Trainable = TrainableName(fields, out var custom),
            Custom = custom,
            Params = fields.TryGetValue("params", out var p) ? Params(p, "params") : TrialConfig.Empty,
            Metric = objectives.Count > 0 ? objectives[0].Metric : string.Empty,
            Mode = objectives.Count > 0 ? objectives[0].Mode : defaults.Mode,
            MoreObjectives = [.. objectives.Skip(1)],
            Samples = Int(fields, "samples") ?? defaults.Samples,
            MaxConcurrent = Int(fields, "max_concurrent") ?? defaults.MaxConcurrent,
            Search = Section(fields, "search", ["algorithm", "seed", "repeat", "max_concurrent", "points_to_evaluate", "evaluated", "sigma0", "popsize", "restarts", "population_size"], f => new SearchSpec
            {
                Algorithm = Enum(f, "search.algorithm", SearchSpec.Algorithms) ?? "random",
                Seed = Int(f, "search.seed") ?? 0,
                Repeat = Int(f, "search.repeat") ?? 1,
                MaxConcurrent = Int(f, "search.max_concurrent"),
                PointsToEvaluate = Points(f, "search.points_to_evaluate"),
                Evaluated = Evaluated(f, "search.evaluated"),
                Sigma0 = Double(f, "search.sigma0"),
                Popsize = Int(f, "search.popsize"),
                Restarts = Enum(f, "search.restarts", SearchSpec.RestartStrategies) ?? "ipop",
                PopulationSize = Int(f, "search.population_size"),
            }) ?? defaults.Search,
            Scheduler = Section(fields, "scheduler", ["algorithm", "time_attr", "max_t", "grace_period", "reduction_factor", "min_samples_required", "perturbation_interval", "quantile_fraction", "resample_probability"], f => new SchedulerSpec
            {
                Algorithm = Enum(f, "scheduler.algorithm", SchedulerSpec.Algorithms) ?? "fifo",
                TimeAttr = String(f, "scheduler.time_attr") ?? defaults.Scheduler.TimeAttr,
                MaxT = Double(f, "scheduler.max_t") ?? defaults.Scheduler.MaxT,
                GracePeriod = Double(f, "scheduler.grace_period") ?? defaults.Scheduler.GracePeriod,
                ReductionFactor = Double(f, "scheduler.reduction_factor") ?? defaults.Scheduler.ReductionFactor,
                MinSamplesRequired = Int(f, "scheduler.min_samples_required") ?? defaults.Scheduler.MinSamplesRequired,
                PerturbationInterval = Double(f, "scheduler.perturbation_interval") ?? defaults.Scheduler.PerturbationInterval,
                QuantileFraction = Double(f, "scheduler.quantile_fraction") ?? defaults.Scheduler.QuantileFraction,
                ResampleProbability = Double(f, "scheduler.resample_probability") ?? defaults.Scheduler.ResampleProbability,
            }) ?? defaults.Scheduler,
            Stop = Section(fields, "stop", ["training_iteration", "metric_threshold", "time_budget_s", "trial_plateau", "experiment_plateau"], f => new StopSpec
            {
                TrainingIteration = Int(f, "stop.training_iteration"),
                MetricThreshold = Double(f, "stop.metric_threshold"),
                TimeBudgetS = Double(f, "stop.time_budget_s"),
                TrialPlateau = Section(f, "stop.trial_plateau", ["metric", "std", "num_results", "grace_period", "metric_threshold", "mode"], t => new TrialPlateauSpec
                {
                    Metric = String(t, "stop.trial_plateau.metric"),
                    Std = Double(t, "stop.trial_plateau.std") ?? TrialPlateauDefaults.Std,
                    NumResults = Int(t, "stop.trial_plateau.num_results") ?? TrialPlateauDefaults.NumResults,
                    GracePeriod = Int(t, "stop.trial_plateau.grace_period") ?? TrialPlateauDefaults.GracePeriod,
                    MetricThreshold = Double(t, "stop.trial_plateau.metric_threshold"),
                    Mode = Mode(t, "stop.trial_plateau.mode"),
                }),
                ExperimentPlateau = Section(f, "stop.experiment_plateau", ["metric", "top", "std", "patience", "mode"], e => new ExperimentPlateauSpec
                {
                    Metric = String(e, "stop.experiment_plateau.metric"),
                    Top = Int(e, "stop.experiment_plateau.top") ?? ExperimentPlateauDefaults.Top,
                    Std = Double(e, "stop.experiment_plateau.std") ?? ExperimentPlateauDefaults.Std,
                    Patience = Int(e, "stop.experiment_plateau.patience") ?? 0,
                    Mode = Mode(e, "stop.experiment_plateau.mode"),
                }),
            }) ?? defaults.Stop,
            Resources = Section(fields, "resources", ["cpu", "gpu"], f => new ResourceSpec
            {
                Cpu = Double(f, "resources.cpu") ?? 1,
                Gpu = Double(f, "resources.gpu") ?? 0,
            }) ?? defaults.Resources,
            Failure = Section(fields, "failure", ["max_failures"], f => new FailureSpec
            {
                MaxFailures = Int(f, "failure.max_failures") ?? 0,
            }) ?? defaults.Failure,
            Checkpoint = Section(fields, "checkpoint", ["frequency", "keep"], f => new CheckpointSpec
            {
                Frequency = Int(f, "checkpoint.frequency") ?? 0,
                Keep = Int(f, "checkpoint.keep") ?? 1,
            }) ?? defaults.Checkpoint,
            Loggers = Section(fields, "loggers", ["tensorboard", "mlflow"], f => new LoggersSpec
            {
                TensorBoard = Bool(f, "loggers.tensorboard") ?? true,
                Mlflow = Section(f, "loggers.mlflow", ["tracking_uri", "experiment"], m => new MlflowSpec
                {
                    TrackingUri = String(m, "loggers.mlflow.tracking_uri") ?? string.Empty,
                    Experiment = String(m, "loggers.mlflow.experiment"),
                }),
            }) ?? defaults.Loggers,
            Durability = Enum(fields, "durability", ["os", "fsync"]) is { } durability ? (durability == "fsync" ? Results.Durability.Fsync : Results.Durability.Os) : defaults.Durability,
            Space = fields.TryGetValue("space", out var s) ? ParseSpace(s) : [],
        };
    }

    private static readonly TrialPlateauSpec TrialPlateauDefaults = new();

    private static readonly ExperimentPlateauSpec ExperimentPlateauDefaults = new();

    private static readonly string[] CustomTrainableKeys = ["assembly", "type", "command", "working_dir", "env"];

    /// <summary>A registered trainable's name, or a custom one's mapping (its display name returned, the rest in <paramref name="custom"/>).</summary>
    private string TrainableName(Dictionary<string, YamlNode> fields, out CustomTrainableSpec? custom)
    {
        custom = null;
        if (!fields.TryGetValue("trainable", out var node) || node is not YamlMappingNode mapping)
        {
            return String(fields, "trainable") ?? string.Empty;
        }

        var f = Fields(mapping, "trainable", CustomTrainableKeys);
        var hasAssembly = f.ContainsKey("trainable.assembly");
        var hasCommand = f.ContainsKey("trainable.command");
        if (hasAssembly == hasCommand)
        {
            Error("trainable", node, hasAssembly
                ? "give either assembly (with type) or command, not both"
                : "a custom trainable needs assembly: PATH with type: NAMESPACE.TYPE, or command: [program, args...]");
            return string.Empty;
        }

        if (hasAssembly)
        {
            foreach (var key in new[] { "command", "working_dir", "env" }.Where(k => f.ContainsKey($"trainable.{k}")))
            {
                Error($"trainable.{key}", f[$"trainable.{key}"], $"'{key}' belongs to a command trainable, not an assembly one");
            }

            if (!f.ContainsKey("trainable.type"))
            {
                Error("trainable.type", node, "is required with assembly: the trainable's full type name, e.g. type: MyModels.MyTrainable");
            }

            custom = new CustomTrainableSpec { Assembly = String(f, "trainable.assembly"), Type = String(f, "trainable.type") };
            return custom.DisplayName;
        }

        if (f.TryGetValue("trainable.type", out var typeNode))
        {
            Error("trainable.type", typeNode, "'type' belongs to an assembly trainable, not a command one");
        }

        List<string>? command = null;
        if (f["trainable.command"] is YamlSequenceNode { Children.Count: > 0 } sequence)
        {
            command = [];
            foreach (var item in sequence.Children)
            {
                if (item is YamlScalarNode { Value: { } v } && !IsNull(item))
                {
                    command.Add(v);
                }
                else
                {
                    Error("trainable.command", item, $"every item must be text, got {Describe(item)}");
                }
            }
        }
        else
        {
            Error("trainable.command", f["trainable.command"], $"expected a list [program, args...], got {Describe(f["trainable.command"])}");
        }

        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (f.TryGetValue("trainable.env", out var envNode))
        {
            if (envNode is YamlMappingNode envMap)
            {
                foreach (var (k, v) in envMap.Children)
                {
                    var key = (k as YamlScalarNode)?.Value ?? string.Empty;
                    if (v is YamlScalarNode { Value: { } value } && !IsNull(v))
                    {
                        env[key] = value;
                    }
                    else
                    {
                        Error($"trainable.env.{key}", v, $"expected a text value, got {Describe(v)}");
                    }
                }
            }
            else
            {
                Error("trainable.env", envNode, $"expected a mapping of variable names to values, got {Describe(envNode)}");
            }
        }

        custom = new CustomTrainableSpec { Command = command ?? [], WorkingDir = String(f, "trainable.working_dir"), Env = env };
        return custom.DisplayName;
    }

    private static string Hint(string key) => key switch
    {
        "name" => "a name for the experiment, e.g. name: branin-random",
        "trainable" => "what to tune, e.g. trainable: branin",
        "metric" => "the reported metric to optimise, e.g. metric: value",
        _ => key,
    };

    /// <summary>The keys of a mapping, keyed by full path; unknown keys are reported with the allowed ones.</summary>
    private Dictionary<string, YamlNode> Fields(YamlMappingNode node, string prefix, IReadOnlyList<string> allowed)
    {
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in node.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
            if (key.Length == 0)
            {
                Error(prefix.Length == 0 ? "(document)" : prefix, keyNode, $"a key is empty or not text; allowed here: {string.Join(", ", allowed)}");
                continue;
            }

            var path = prefix.Length == 0 ? key : $"{prefix}.{key}";
            if (!allowed.Contains(key))
            {
                var suggestion = Suggest(key, allowed);
                Error(path, keyNode, $"unknown key '{key}'{suggestion}; allowed here: {string.Join(", ", allowed)}");
                continue;
            }

            if (!result.TryAdd(path, value))
            {
                Error(path, keyNode, $"'{key}' is given twice");
                continue;
            }

            _lines[path] = (int)keyNode.Start.Line;
        }

        return result;
    }

    private static string Suggest(string key, IReadOnlyList<string> allowed)
    {
        var best = allowed.Select(a => (a, d: Levenshtein(key.ToLowerInvariant(), a))).MinBy(x => x.d);
        return best.a is not null && best.d <= Math.Max(2, key.Length / 3) ? $" (did you mean '{best.a}'?)" : string.Empty;
    }

    private static int Levenshtein(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }

        return d[a.Length, b.Length];
    }

    private T? Section<T>(Dictionary<string, YamlNode> fields, string key, IReadOnlyList<string> allowed, Func<Dictionary<string, YamlNode>, T> build)
        where T : class
    {
        if (!fields.TryGetValue(key, out var node))
        {
            return null;
        }

        if (node is not YamlMappingNode mapping)
        {
            Error(key, node, $"expected a mapping with keys {string.Join(", ", allowed)}, got {Describe(node)}");
            return null;
        }

        return build(Fields(mapping, key, allowed));
    }

    private string? String(Dictionary<string, YamlNode> fields, string path)
    {
        if (!fields.TryGetValue(path, out var node))
        {
            return null;
        }

        if (node is YamlScalarNode { Value: { } value } && (value.Length > 0 || node is YamlScalarNode { Style: ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted }) && !IsNull(node))
        {
            return value;
        }

        Error(path, node, $"expected a text value, got {Describe(node)}");
        return null;
    }

    /// <summary>
    /// <c>metric</c> and <c>mode</c>: one name and one mode, or lists of the same length (several objectives); a single mode
    /// (or none: min) with one metric.
    /// </summary>
    private List<Objective> Objectives(Dictionary<string, YamlNode> fields)
    {
        var metrics = new List<string>();
        if (fields.TryGetValue("metric", out var metricNode) && metricNode is YamlSequenceNode metricList)
        {
            foreach (var (item, i) in metricList.Children.Select((n, i) => (n, i)))
            {
                if (item is YamlScalarNode { Value: { Length: > 0 } name } && !IsNull(item))
                {
                    if (metrics.Contains(name))
                    {
                        Error("metric", item, $"'{name}' is given twice; each objective once");
                    }

                    metrics.Add(name);
                }
                else
                {
                    Error($"metric[{i}]", item, $"expected a metric's name, got {Describe(item)}");
                }
            }

            if (metricList.Children.Count == 0)
            {
                Error("metric", metricNode, "the list is empty; name the metric to optimise, or several (metric: [valid_loss, parameters])");
            }
        }
        else if (String(fields, "metric") is { } single)
        {
            metrics.Add(single);
        }

        var modes = new List<OptimizationMode>();
        if (fields.TryGetValue("mode", out var modeNode) && modeNode is YamlSequenceNode modeList)
        {
            foreach (var (item, i) in modeList.Children.Select((n, i) => (n, i)))
            {
                var value = (item as YamlScalarNode)?.Value;
                if (value is "min" or "max")
                {
                    modes.Add(value == "min" ? OptimizationMode.Min : OptimizationMode.Max);
                }
                else
                {
                    Error($"mode[{i}]", item, $"{Describe(item)} is not one of the allowed values: min, max");
                }
            }
        }
        else if (Mode(fields, "mode") is { } mode)
        {
            modes.Add(mode);
        }

        var listed = metricNode is YamlSequenceNode || modeNode is YamlSequenceNode;
        if (listed && modes.Count != metrics.Count && !_errors.Any(e => e.Path.StartsWith("mode", StringComparison.Ordinal) || e.Path.StartsWith("metric", StringComparison.Ordinal)))
        {
            Error("mode", modeNode ?? metricNode!, $"{metrics.Count} metric(s) but {modes.Count} mode(s); give one mode per metric, in the same order (e.g. mode: [{string.Join(", ", metrics.Select(_ => "min"))}])");
        }

        return [.. metrics.Select((metric, i) => new Objective(metric, i < modes.Count ? modes[i] : OptimizationMode.Min))];
    }

    private OptimizationMode? Mode(Dictionary<string, YamlNode> fields, string path) =>
        Enum(fields, path, ["min", "max"]) is { } mode ? (mode == "min" ? OptimizationMode.Min : OptimizationMode.Max) : null;

    private string? Enum(Dictionary<string, YamlNode> fields, string path, IReadOnlyList<string> allowed)
    {
        var value = String(fields, path);
        if (value is null)
        {
            return null;
        }

        if (!allowed.Contains(value))
        {
            Error(path, fields[path], $"'{value}' is not one of the allowed values: {string.Join(", ", allowed)}");
            return null;
        }

        return value;
    }

    private bool? Bool(Dictionary<string, YamlNode> fields, string path)
    {
        if (!fields.TryGetValue(path, out var node))
        {
            return null;
        }

        if (node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: "true" or "false" } scalar)
        {
            return scalar.Value == "true";
        }

        Error(path, node, $"expected true or false, got {Describe(node)}");
        return null;
    }

    private int? Int(Dictionary<string, YamlNode> fields, string path)
    {
        if (!fields.TryGetValue(path, out var node))
        {
            return null;
        }

        if (node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } text } && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            if (l is < int.MinValue or > int.MaxValue)
            {
                Error(path, node, $"{text} is too large; expected a whole number up to {int.MaxValue}");
                return null;
            }

            return (int)l;
        }

        Error(path, node, $"expected a whole number, got {Describe(node)}");
        return null;
    }

    private double? Double(Dictionary<string, YamlNode> fields, string path)
    {
        if (!fields.TryGetValue(path, out var node))
        {
            return null;
        }

        if (TryNumber(node, out var d))
        {
            return d;
        }

        Error(path, node, $"expected a number, got {Describe(node)}");
        return null;
    }

    private static bool TryNumber(YamlNode node, out double value)
    {
        value = 0;
        return node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } text }
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)
            && double.IsFinite(value);
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        _ when IsNull(node) => "nothing (null)",
        YamlScalarNode { Style: ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted } s => $"the text \"{s.Value}\"",
        YamlScalarNode s => $"'{s.Value}'",
        _ => "an alias",
    };

    /// <summary>A plain scalar's typed value: integer, float, boolean, else string; quoted scalars are strings.</summary>
    private ParamValue? Scalar(YamlNode node, string path)
    {
        if (node is not YamlScalarNode { Value: { } text } scalar || IsNull(node))
        {
            Error(path, node, $"expected a number, text or true/false, got {Describe(node)}");
            return null;
        }

        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return ParamValue.String(text);
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return ParamValue.Integer(l);
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            if (!double.IsFinite(d))
            {
                Error(path, node, $"'{text}' is not a finite number");
                return null;
            }

            return ParamValue.Float(d);
        }

        return text switch
        {
            "true" or "True" or "TRUE" => ParamValue.Boolean(true),
            "false" or "False" or "FALSE" => ParamValue.Boolean(false),
            _ => ParamValue.String(text),
        };
    }
}
