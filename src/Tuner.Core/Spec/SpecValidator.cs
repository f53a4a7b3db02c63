using System.Globalization;
using Tuner.Core.Search;
using Tuner.Core.Trainables;
using Tuner.Core.Space;

namespace Tuner.Core.Spec;

/// <summary>
/// The rules every spec obeys, whether it was parsed from YAML or built in C#. Each error names the
/// field path and what is allowed there.
/// </summary>
public static class SpecValidator
{
    public const int MaxTrials = 1_000_000;

    public static IReadOnlyList<SpecError> Validate(ExperimentSpec spec, TrainableRegistry? registry = null) => Validate(spec, registry, null);

    /// <param name="declared">Parameter names the spec's text declares, even where their definition was invalid (and so absent from the model).</param>
    private static readonly System.Text.RegularExpressions.Regex TypeName = new(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\+[A-Za-z_][A-Za-z0-9_]*)*$");
    private static readonly System.Text.RegularExpressions.Regex VariableName = new("^[A-Za-z_][A-Za-z0-9_]*$");

    private static void ValidateCustom(CustomTrainableSpec custom, Action<string, string> add)
    {
        if (custom.IsCommand)
        {
            if (custom.Command!.Count == 0 || string.IsNullOrWhiteSpace(custom.Command[0]))
            {
                add("trainable.command", "must start with the program to run, e.g. command: [python3, train.py]");
            }

            if (custom.Command.Any(part => part.Contains('\0', StringComparison.Ordinal)))
            {
                add("trainable.command", "must not contain NUL characters");
            }

            foreach (var name in custom.Env.Keys)
            {
                if (!VariableName.IsMatch(name))
                {
                    add($"trainable.env.{name}", "is not a valid environment variable name; use letters, digits and '_', not starting with a digit");
                }
                else if (name.StartsWith("TUNER_", StringComparison.Ordinal))
                {
                    add($"trainable.env.{name}", "TUNER_ variables are set by the worker (config file, trial id, checkpoint folder, ...) and cannot be overridden");
                }
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(custom.Assembly))
        {
            add("trainable.assembly", "must be the path of the trainable's .dll");
        }
        else if (!custom.Assembly.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || custom.Assembly.Contains('\0', StringComparison.Ordinal))
        {
            add("trainable.assembly", $"'{custom.Assembly}' is not the path of a .dll");
        }

        if (custom.Type is not null && !TypeName.IsMatch(custom.Type))
        {
            add("trainable.type", $"'{custom.Type}' is not a type name; expected NAMESPACE.TYPE, e.g. MyModels.MyTrainable");
        }
    }

    internal static IReadOnlyList<SpecError> Validate(ExperimentSpec spec, TrainableRegistry? registry, IReadOnlySet<string>? declared)
    {
        registry ??= TrainableRegistry.CreateDefault();
        var errors = new List<SpecError>();
        void Add(string path, string message) => errors.Add(new SpecError(path, message));

        if (string.IsNullOrWhiteSpace(spec.Name))
        {
            Add("name", "must not be empty");
        }
        else if (spec.Name.Length > 100 || spec.Name is "." or ".." || spec.Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            Add("name", $"'{spec.Name}' is not allowed; use up to 100 letters, digits, '-', '_' or '.' (it names the results folder)");
        }

        TrainableDescriptor? trainable = null;
        if (spec.Custom is { } custom)
        {
            ValidateCustom(custom, Add);
        }
        else if (string.IsNullOrWhiteSpace(spec.Trainable))
        {
            Add("trainable", $"must name a trainable; known: {string.Join(", ", registry.Names)}");
        }
        else if (!registry.TryGet(spec.Trainable, out trainable))
        {
            Add("trainable", $"unknown trainable '{spec.Trainable}'; known: {string.Join(", ", registry.Names)}");
        }

        foreach (var objective in spec.Objectives)
        {
            if (string.IsNullOrWhiteSpace(objective.Metric))
            {
                Add("metric", "must name a reported metric");
            }
            else if (trainable is not null && !trainable.Metrics.Contains(objective.Metric))
            {
                Add("metric", $"'{objective.Metric}' is never reported by trainable '{trainable.Name}'; it reports: {string.Join(", ", trainable.Metrics)}");
            }
        }

        if (spec.Objectives.Select(o => o.Metric).Distinct(StringComparer.Ordinal).Count() < spec.Objectives.Count)
        {
            Add("metric", $"an objective is given twice: {string.Join(", ", spec.Objectives.Select(o => o.Metric))}");
        }

        if (spec.IsMultiObjective)
        {
            const string several = "with several objectives";
            if (spec.Search.Algorithm is "gp" or "bohb" or "cmaes")
            {
                Add("search.algorithm", $"{spec.Search.Algorithm} optimises one metric; {several} use nsga2, tpe (multi-objective TPE) or random");
            }

            if (spec.Scheduler.Algorithm is not ("fifo" or "asha"))
            {
                Add("scheduler.algorithm", $"{spec.Scheduler.Algorithm} ranks trials by one metric; {several} use fifo, or asha (which ranks by non-domination at each rung)");
            }

            if (spec.Search.Repeat > 1)
            {
                Add("search.repeat", $"averages one metric over the copies; {several} leave it at 1");
            }

            if (spec.Stop.MetricThreshold is not null)
            {
                Add("stop.metric_threshold", $"compares one metric; {several} use stop.trial_plateau with its metric and metric_threshold");
            }
        }

        if (!System.Enum.IsDefined(spec.Mode))
        {
            Add("mode", "must be min or max");
        }

        if (spec.Samples < 1)
        {
            Add("samples", $"must be at least 1, got {spec.Samples}");
        }

        if (spec.MaxConcurrent < 1)
        {
            Add("max_concurrent", $"must be at least 1, got {spec.MaxConcurrent}");
        }

        if (!SearchSpec.Algorithms.Contains(spec.Search.Algorithm))
        {
            Add("search.algorithm", $"'{spec.Search.Algorithm}' is not one of the allowed values: {string.Join(", ", SearchSpec.Algorithms)}");
        }

        if (!SchedulerSpec.Algorithms.Contains(spec.Scheduler.Algorithm))
        {
            Add("scheduler.algorithm", $"'{spec.Scheduler.Algorithm}' is not one of the allowed values: {string.Join(", ", SchedulerSpec.Algorithms)}");
        }

        if (spec.Search.Repeat < 1)
        {
            Add("search.repeat", $"must be at least 1, got {spec.Search.Repeat}");
        }

        if (spec.Search.MaxConcurrent is < 1)
        {
            Add("search.max_concurrent", $"must be at least 1, got {spec.Search.MaxConcurrent}");
        }

        for (var i = 0; i < spec.Search.PointsToEvaluate.Count; i++)
        {
            CheckPoint(spec, $"search.points_to_evaluate[{i}]", spec.Search.PointsToEvaluate[i], Add);
        }

        var searched = VariantGenerator.CountTrials(spec) / Math.Max(spec.Search.Repeat, 1);
        if (spec.Search.PointsToEvaluate.Count > searched)
        {
            Add("search.points_to_evaluate", $"{spec.Search.PointsToEvaluate.Count} points, but the experiment runs {searched} configs (samples{(spec.Search.Repeat > 1 ? ", each repeated" : string.Empty)}); the points count among them");
        }

        for (var i = 0; i < spec.Search.Evaluated.Count; i++)
        {
            var evaluated = spec.Search.Evaluated[i];
            CheckPoint(spec, $"search.evaluated[{i}].config", evaluated.Config, Add);
            foreach (var objective in spec.Objectives.Where(o => !evaluated.Metrics.ContainsKey(o.Metric)))
            {
                Add($"search.evaluated[{i}].metrics", $"must hold the experiment's metric '{objective.Metric}' (it has: {(evaluated.Metrics.Count == 0 ? "none" : string.Join(", ", evaluated.Metrics.Keys))})");
            }
        }

        if (spec.Search.Algorithm is "tpe" or "bohb")
        {
            foreach (var name in spec.Space.Where(d => d.Value is GridDomain).Select(d => d.Key))
            {
                Add($"space.{name}", $"search.algorithm {spec.Search.Algorithm} samples every dimension and does not enumerate grids; use choice instead of grid");
            }
        }

        var earlier = new List<string>();
        foreach (var (name, domain) in spec.Space)
        {
            if (spec.Space.ConditionOf(name) is { } when)
            {
                var at = $"space.{name}.when";
                if (!earlier.Contains(when.Parent))
                {
                    Add(at, $"'{when.Parent}' is not a dimension declared before '{name}'{(earlier.Count == 0 ? string.Empty : $" (declared before it: {string.Join(", ", earlier)})")}");
                }
                else if (spec.Space[when.Parent] is Space.ChoiceDomain or GridDomain && when.Values is { } values)
                {
                    var allowed = spec.Space[when.Parent].EnumerateValues() ?? [];
                    foreach (var value in values.Where(v => !allowed.Contains(v)))
                    {
                        Add(at, $"{when.Parent} never takes {value.ToDisplayString()}: its allowed values are {string.Join(", ", allowed.Select(a => a.ToDisplayString()))}");
                    }
                }
                else if (when.Values is null && spec.Space[when.Parent] is Space.ChoiceDomain or GridDomain)
                {
                    Add(at, $"min and max compare numbers; {when.Parent} is a choice: list the values instead");
                }

                if (domain is GridDomain)
                {
                    Add(at, "a grid dimension cannot be conditional (its values would repeat configs); use choice");
                }

                if (spec.Search.Algorithm == "grid")
                {
                    Add(at, "search.algorithm grid enumerates every dimension, so a conditional one would repeat configs; use random or tpe");
                }
            }

            earlier.Add(name);
        }

        if (spec.Search.Algorithm == "bohb" && spec.Scheduler.Algorithm != "bohb")
        {
            Add("search.algorithm", $"bohb learns from the budgets of the bohb scheduler (HyperBandForBOHB); set scheduler.algorithm: bohb (got {spec.Scheduler.Algorithm})");
        }

        if (spec.Search.Algorithm == "gp")
        {
            foreach (var name in spec.Space.Where(d => d.Value is GridDomain or ChoiceDomain).Select(d => d.Key))
            {
                Add($"space.{name}", "search.algorithm gp models numeric dimensions only (uniform, loguniform, randint, ...); use tpe for a space with choices");
            }
        }

        if (spec.Search.Algorithm == "cmaes")
        {
            foreach (var name in spec.Space.Where(d => d.Value is GridDomain or ChoiceDomain).Select(d => d.Key))
            {
                Add($"space.{name}", $"search.algorithm cmaes models numeric dimensions only (uniform, loguniform, randint, ...), not {spec.Space[name].Primitive}; use tpe for a space with choices");
            }

            foreach (var name in spec.Space.Names.Where(n => spec.Space.ConditionOf(n) is not null))
            {
                Add($"space.{name}", "search.algorithm cmaes samples every dimension together; a conditional dimension needs tpe or random");
            }
        }

        if (spec.Search.Algorithm == "nsga2")
        {
            foreach (var name in spec.Space.Where(d => d.Value is GridDomain).Select(d => d.Key))
            {
                Add($"space.{name}", "search.algorithm nsga2 breeds configs and does not enumerate grids; use choice instead of grid");
            }

            foreach (var name in spec.Space.Names.Where(n => spec.Space.ConditionOf(n) is not null))
            {
                Add($"space.{name}", "search.algorithm nsga2 crosses whole configs; a conditional dimension needs tpe or random");
            }
        }

        if (spec.Search.PopulationSize is { } population && (population < 2 || spec.Search.Algorithm != "nsga2"))
        {
            Add("search.population_size", spec.Search.Algorithm != "nsga2" ? $"is a setting of search.algorithm nsga2 (got {spec.Search.Algorithm})" : $"must be at least 2, got {population}");
        }

        if (spec.Search.Sigma0 is { } sigma0 && !(sigma0 > 0 && sigma0 <= 1))
        {
            Add("search.sigma0", $"must be above 0 and at most 1 (the step size on axes scaled to [0, 1]), got {F(sigma0)}");
        }

        if (spec.Search.Popsize is < 2)
        {
            Add("search.popsize", $"must be at least 2, got {spec.Search.Popsize}");
        }

        if (spec.Search.Algorithm != "cmaes")
        {
            foreach (var (key, set) in new[] { ("sigma0", spec.Search.Sigma0 is not null), ("popsize", spec.Search.Popsize is not null), ("restarts", spec.Search.Restarts != "ipop") })
            {
                if (set)
                {
                    Add($"search.{key}", $"is a setting of search.algorithm cmaes (got {spec.Search.Algorithm})");
                }
            }
        }

        if (!SearchSpec.RestartStrategies.Contains(spec.Search.Restarts))
        {
            Add("search.restarts", $"'{spec.Search.Restarts}' is not one of the allowed values: {string.Join(", ", SearchSpec.RestartStrategies)}");
        }

        var scheduler = spec.Scheduler;
        if (string.IsNullOrWhiteSpace(scheduler.TimeAttr))
        {
            Add("scheduler.time_attr", "must name what progress is measured in: training_iteration, time_total_s, or a reported metric such as epoch");
        }

        if (!(scheduler.GracePeriod > 0 && double.IsFinite(scheduler.GracePeriod)))
        {
            Add("scheduler.grace_period", $"must be a positive number, got {F(scheduler.GracePeriod)}");
        }

        if (!(scheduler.MaxT >= scheduler.GracePeriod && double.IsFinite(scheduler.MaxT)))
        {
            Add("scheduler.max_t", $"must be at least grace_period ({F(scheduler.GracePeriod)}), got {F(scheduler.MaxT)}");
        }

        if (!(scheduler.ReductionFactor > 1 && double.IsFinite(scheduler.ReductionFactor)))
        {
            Add("scheduler.reduction_factor", $"must be above 1, got {F(scheduler.ReductionFactor)}");
        }

        if (scheduler.MinSamplesRequired < 1)
        {
            Add("scheduler.min_samples_required", $"must be at least 1, got {scheduler.MinSamplesRequired}");
        }

        if (scheduler.Algorithm is "hyperband" or "bohb" && scheduler.MaxT < scheduler.ReductionFactor)
        {
            Add("scheduler.max_t", $"must be at least reduction_factor ({F(scheduler.ReductionFactor)}) for {scheduler.Algorithm} to have more than one rung, got {F(scheduler.MaxT)}");
        }

        if (scheduler.Algorithm == "pbt")
        {
            if (!(scheduler.PerturbationInterval > 0 && double.IsFinite(scheduler.PerturbationInterval)))
            {
                Add("scheduler.perturbation_interval", $"must be a positive number, got {F(scheduler.PerturbationInterval)}");
            }

            if (!(scheduler.QuantileFraction > 0 && scheduler.QuantileFraction <= 0.5))
            {
                Add("scheduler.quantile_fraction", $"must be above 0 and at most 0.5, got {F(scheduler.QuantileFraction)}");
            }

            if (!(scheduler.ResampleProbability >= 0 && scheduler.ResampleProbability <= 1))
            {
                Add("scheduler.resample_probability", $"must be between 0 and 1, got {F(scheduler.ResampleProbability)}");
            }

            if (spec.Checkpoint.Frequency < 1)
            {
                Add("checkpoint.frequency", $"pbt copies the latest checkpoint of a better trial, so trials must save them: set checkpoint.frequency (e.g. to perturbation_interval, {F(scheduler.PerturbationInterval)}), got {spec.Checkpoint.Frequency}");
            }

            foreach (var name in spec.Space.Where(d => d.Value is GridDomain).Select(d => d.Key))
            {
                Add($"space.{name}", "scheduler.algorithm pbt explores by resampling and perturbing; use choice instead of grid");
            }
        }

        if (spec.Stop.TrainingIteration is < 1)
        {
            Add("stop.training_iteration", $"must be at least 1, got {spec.Stop.TrainingIteration}");
        }

        if (spec.Stop.MetricThreshold is { } threshold && !double.IsFinite(threshold))
        {
            Add("stop.metric_threshold", "must be a finite number");
        }

        if (spec.Stop.TimeBudgetS is { } budget && !(budget > 0 && double.IsFinite(budget)))
        {
            Add("stop.time_budget_s", $"must be a positive number of seconds, got {F(budget)}");
        }

        if (spec.Stop.TrialPlateau is { } trialPlateau)
        {
            if (trialPlateau.Metric is { Length: 0 })
            {
                Add("stop.trial_plateau.metric", "must name a reported metric (leave it out for the experiment's metric)");
            }

            if (!(trialPlateau.Std > 0 && double.IsFinite(trialPlateau.Std)))
            {
                Add("stop.trial_plateau.std", $"must be a positive number, got {F(trialPlateau.Std)}");
            }

            if (trialPlateau.NumResults < 2)
            {
                Add("stop.trial_plateau.num_results", $"must be at least 2 (the spread of fewer results is always 0), got {trialPlateau.NumResults}");
            }

            if (trialPlateau.GracePeriod < 0)
            {
                Add("stop.trial_plateau.grace_period", $"must be zero or more results, got {trialPlateau.GracePeriod}");
            }

            if (trialPlateau.MetricThreshold is { } plateauThreshold && !double.IsFinite(plateauThreshold))
            {
                Add("stop.trial_plateau.metric_threshold", "must be a finite number");
            }
        }

        if (spec.Stop.ExperimentPlateau is { } experimentPlateau)
        {
            if (experimentPlateau.Metric is { Length: 0 })
            {
                Add("stop.experiment_plateau.metric", "must name a reported metric (leave it out for the experiment's metric)");
            }

            if (experimentPlateau.Top < 2)
            {
                Add("stop.experiment_plateau.top", $"must be at least 2 (the spread of fewer results is always 0), got {experimentPlateau.Top}");
            }

            if (!(experimentPlateau.Std >= 0 && double.IsFinite(experimentPlateau.Std)))
            {
                Add("stop.experiment_plateau.std", $"must be zero or a positive number, got {F(experimentPlateau.Std)}");
            }

            if (experimentPlateau.Patience < 0)
            {
                Add("stop.experiment_plateau.patience", $"must be zero or more results, got {experimentPlateau.Patience}");
            }
        }

        if (!(spec.Resources.Cpu >= 0 && double.IsFinite(spec.Resources.Cpu)))
        {
            Add("resources.cpu", $"must be zero or more CPU slots (fractions allowed), got {F(spec.Resources.Cpu)}");
        }

        if (!(spec.Resources.Gpu >= 0 && double.IsFinite(spec.Resources.Gpu)))
        {
            Add("resources.gpu", $"must be zero or more GPUs, got {F(spec.Resources.Gpu)}");
        }
        else if (spec.Resources.Gpu > 1 && spec.Resources.Gpu != Math.Floor(spec.Resources.Gpu))
        {
            Add("resources.gpu", $"a fraction of a GPU must be below 1 (several GPUs are a whole number), got {F(spec.Resources.Gpu)}");
        }

        if (spec.Failure.MaxFailures < 0)
        {
            Add("failure.max_failures", $"must be zero or more retries, got {spec.Failure.MaxFailures}");
        }

        if (spec.Checkpoint.Frequency < 0)
        {
            Add("checkpoint.frequency", $"must be zero (no periodic checkpoints) or a number of iterations, got {spec.Checkpoint.Frequency}");
        }

        if (spec.Loggers.Mlflow is { } mlflow
            && !(Uri.TryCreate(mlflow.TrackingUri, UriKind.Absolute, out var tracking) && tracking.Scheme is "http" or "https"))
        {
            Add("loggers.mlflow.tracking_uri", $"must be the http(s) address of an MLflow tracking server (e.g. http://localhost:5000), got '{mlflow.TrackingUri}'");
        }

        if (spec.Checkpoint.Keep < 1)
        {
            Add("checkpoint.keep", $"must keep at least 1 checkpoint, got {spec.Checkpoint.Keep}");
        }

        foreach (var (name, domain) in spec.Space)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Any(char.IsControl))
            {
                Add($"space.{name}", "a parameter needs a name without control characters");
            }

            foreach (var problem in domain.Validate())
            {
                Add($"space.{name}.{domain.Primitive}", problem);
            }

            if (spec.Params.ContainsKey(name))
            {
                Add($"params.{name}", $"'{name}' is also in space; a parameter is either fixed (params) or tuned (space), not both");
            }

            if (spec.Search.Algorithm == "grid" && domain.EnumerateValues() is null)
            {
                Add($"space.{name}.{domain.Primitive}", $"grid search cannot enumerate {domain.Primitive}; use grid, choice, randint or qrandint here, or search.algorithm: random");
            }
        }

        if (trainable is not null)
        {
            var reads = trainable.Parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var required in trainable.Parameters.Where(p => p.Required && !spec.Space.Contains(p.Name) && !spec.Params.ContainsKey(p.Name) && declared?.Contains(p.Name) != true))
            {
                Add("space", $"trainable '{trainable.Name}' needs '{required.Name}' ({required.Description}); add it to space or params");
            }

            foreach (var name in spec.Space.Names.Where(n => !reads.Contains(n) && !trainable.AcceptsAnyParameters))
            {
                Add($"space.{name}", $"trainable '{trainable.Name}' does not read '{name}'; it reads: {string.Join(", ", reads)}");
            }

            foreach (var name in spec.Params.Keys.Where(n => !reads.Contains(n) && !trainable.AcceptsAnyParameters))
            {
                Add($"params.{name}", $"trainable '{trainable.Name}' does not read '{name}'; it reads: {string.Join(", ", reads)}");
            }
        }

        if (errors.Count == 0 && VariantGenerator.CountTrials(spec) is var total && total > MaxTrials)
        {
            Add("samples", $"the spec asks for {total:N0} trials (grid size x samples); at most {MaxTrials:N0} are allowed");
        }

        return errors;
    }

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A warm-start config: every key a dimension of the space, every value in its domain.</summary>
    private static void CheckPoint(ExperimentSpec spec, string path, TrialConfig point, Action<string, string> add)
    {
        foreach (var (name, value) in point)
        {
            if (!spec.Space.Contains(name))
            {
                add($"{path}.{name}", $"is not a dimension of the space; its dimensions: {string.Join(", ", spec.Space.Names)}");
            }
            else if (spec.Space[name].Refuses(value) is { } problem)
            {
                add($"{path}.{name}", $"{problem} (space.{name} is {spec.Space[name].Primitive})");
            }
        }
    }
}
