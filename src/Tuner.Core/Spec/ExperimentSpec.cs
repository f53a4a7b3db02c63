using Tuner.Core.Space;

namespace Tuner.Core.Spec;

/// <summary>Whether the experiment's metric is to be minimised or maximised.</summary>
public enum OptimizationMode
{
    Min,
    Max,
}

/// <summary>
/// One tuning experiment: the model behind the YAML spec. Build it in code or parse it with
/// <see cref="SpecParser"/>; either way <see cref="SpecValidator"/> checks it the same way.
/// </summary>
public sealed record ExperimentSpec
{
    public required string Name { get; init; }

    /// <summary>
    /// The name of a registered trainable (<c>branin</c>, <c>hartmann6</c>, <c>sleep</c>, <c>noop</c>, ...); for a
    /// <see cref="Custom"/> trainable, a name for it shown in tables (its type, or its program's file name).
    /// </summary>
    public required string Trainable { get; init; }

    /// <summary>The user's own trainable: a .NET type in an assembly, or a command; null for a registered one.</summary>
    public CustomTrainableSpec? Custom { get; init; }

    /// <summary>Fixed values passed to every trial, merged with the sampled ones.</summary>
    public TrialConfig Params { get; init; } = TrialConfig.Empty;

    /// <summary>The metric optimised; with <see cref="MoreObjectives"/>, the first objective.</summary>
    public required string Metric { get; init; }

    public OptimizationMode Mode { get; init; } = OptimizationMode.Min;

    /// <summary>
    /// Objectives after <see cref="Metric"/>: with any, the experiment searches for the Pareto front of them all
    /// (<c>metric: [valid_loss, parameters]</c> with <c>mode: [min, min]</c> in YAML). Empty: one objective.
    /// </summary>
    public IReadOnlyList<Objective> MoreObjectives { get; init; } = [];

    /// <summary>Every objective, <see cref="Metric"/> first.</summary>
    public IReadOnlyList<Objective> Objectives => [new(Metric, Mode), .. MoreObjectives];

    public bool IsMultiObjective => MoreObjectives.Count > 0;

    /// <summary>How many configs to draw; with grid dimensions, how many times to repeat the grid.</summary>
    public int Samples { get; init; } = 1;

    public int MaxConcurrent { get; init; } = 1;

    /// <summary>
    /// How far the journal, the result rows and the checkpoints are written before they count: <c>os</c> (the default)
    /// hands them to the operating system (they survive the process being killed); <c>fsync</c> also waits for the
    /// disk (they survive a power loss).
    /// </summary>
    public Results.Durability Durability { get; init; } = Results.Durability.Os;

    public SearchSpec Search { get; init; } = new();

    public SchedulerSpec Scheduler { get; init; } = new();

    public StopSpec Stop { get; init; } = new();

    public ResourceSpec Resources { get; init; } = new();

    public FailureSpec Failure { get; init; } = new();

    public CheckpointSpec Checkpoint { get; init; } = new();

    /// <summary>Where results go besides the run folder's own files: TensorBoard (on by default) and MLflow.</summary>
    public LoggersSpec Loggers { get; init; } = new();

    public SearchSpace Space { get; init; } = [];

    /// <summary>This spec with the values of the command trainable's environment hidden: what results, logs and the API show.</summary>
    public ExperimentSpec Redacted() => Custom is { Env.Count: > 0 } custom ? this with { Custom = custom.Redacted() } : this;

    /// <summary>True when a smaller value of the metric is better.</summary>
    public bool IsBetter(double candidate, double incumbent) =>
        Mode == OptimizationMode.Min ? candidate < incumbent : candidate > incumbent;
}

/// <summary>One objective of a multi-objective experiment: a reported metric and its direction.</summary>
public sealed record Objective(string Metric, OptimizationMode Mode)
{
    /// <summary>The value as minimised: negated for <see cref="OptimizationMode.Max"/>.</summary>
    public double Loss(double value) => Mode == OptimizationMode.Min ? value : -value;

    /// <summary>Every objective's loss in <paramref name="metrics"/>, in order; null when one is missing or not finite.</summary>
    public static double[]? Losses(IReadOnlyList<Objective> objectives, IReadOnlyDictionary<string, double> metrics)
    {
        var losses = new double[objectives.Count];
        for (var i = 0; i < losses.Length; i++)
        {
            if (!metrics.TryGetValue(objectives[i].Metric, out var value) || !double.IsFinite(value))
            {
                return null;
            }

            losses[i] = objectives[i].Loss(value);
        }

        return losses;
    }
}

/// <summary>The search algorithm (<see cref="Algorithms"/>), its seed, its wrappers, its warm starts and CMA-ES's settings.</summary>
public sealed record SearchSpec
{
    public static IReadOnlyList<string> Algorithms { get; } = ["random", "grid", "tpe", "gp", "bohb", "cmaes", "nsga2"];

    /// <summary>cmaes: what a run does when it meets a termination criterion.</summary>
    public static IReadOnlyList<string> RestartStrategies { get; } = ["ipop", "none"];

    public string Algorithm { get; init; } = "random";

    public int Seed { get; init; }

    /// <summary>Run each suggested config this many times, the searcher learning their mean (Ray's Repeater).</summary>
    public int Repeat { get; init; } = 1;

    /// <summary>At most this many of the searcher's trials in flight (Ray's ConcurrencyLimiter); null: no limit of its own.</summary>
    public int? MaxConcurrent { get; init; }

    /// <summary>cmaes: the initial step size, on axes scaled to [0, 1]; null: 1/6.</summary>
    public double? Sigma0 { get; init; }

    /// <summary>cmaes: candidates a generation (the first run's, with restarts); null: 4 + floor(3 ln n).</summary>
    public int? Popsize { get; init; }

    /// <summary>nsga2: configs a generation, and parents kept; null: 50.</summary>
    public int? PopulationSize { get; init; }

    /// <summary>cmaes: <c>ipop</c> (the default) starts a converged run again with twice the population; <c>none</c> goes on with it.</summary>
    public string Restarts { get; init; } = "ipop";

    /// <summary>
    /// Configs run first, in this order (Ray's <c>points_to_evaluate</c>, Optuna's <c>enqueue_trial</c>); they count among the
    /// experiment's trials, and the searcher learns from them as from its own. A dimension a point leaves out is drawn from its domain.
    /// </summary>
    public IReadOnlyList<TrialConfig> PointsToEvaluate { get; init; } = [];

    /// <summary>Configs evaluated elsewhere, with their metrics: the searcher learns from them before its first suggestion, and none of them runs.</summary>
    public IReadOnlyList<EvaluatedPoint> Evaluated { get; init; } = [];
}

/// <summary>A config evaluated elsewhere and what it reported (<c>search.evaluated: [{ config: {...}, metrics: {...} }]</c>).</summary>
public sealed record EvaluatedPoint(TrialConfig Config, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// The early-stopping scheduler, deciding centrally after every result: <c>fifo</c> (none), <c>asha</c>
/// (asynchronous successive halving, Ray's stopping form), <c>asha_promotion</c> (the paper's form,
/// pausing and promoting), <c>hyperband</c> (synchronous, the paper's brackets), <c>bohb</c>
/// (HyperBandForBOHB, for the BOHB searcher), <c>median</c> (the median stopping rule) or <c>pbt</c>
/// (population-based training). Progress is measured in <see cref="TimeAttr"/>.
/// </summary>
public sealed record SchedulerSpec
{
    public static IReadOnlyList<string> Algorithms { get; } = ["fifo", "asha", "asha_promotion", "hyperband", "bohb", "median", "pbt"];

    /// <summary>The schedulers that pause trials and resume them from their checkpoints.</summary>
    public static IReadOnlyList<string> Pausing { get; } = ["asha_promotion", "hyperband", "bohb", "pbt"];

    public string Algorithm { get; init; } = "fifo";

    /// <summary><c>training_iteration</c>, <c>time_total_s</c>, or a reported metric such as <c>epoch</c>.</summary>
    public string TimeAttr { get; init; } = "training_iteration";

    /// <summary>asha, hyperband, bohb: the most a trial gets; it stops there.</summary>
    public double MaxT { get; init; } = 100;

    /// <summary>asha: the first rung; median: no judgement before it.</summary>
    public double GracePeriod { get; init; } = 1;

    /// <summary>asha, hyperband, bohb: rungs grow by this factor, and the top 1/factor at each rung go on.</summary>
    public double ReductionFactor { get; init; } = 4;

    /// <summary>median: how many other trials must have reached the same time.</summary>
    public int MinSamplesRequired { get; init; } = 3;

    /// <summary>pbt: how often (in time_attr) a trial is ranked and, in the bottom quantile, replaced.</summary>
    public double PerturbationInterval { get; init; } = 4;

    /// <summary>pbt: the fraction at the bottom that is replaced, and at the top that is copied (at most 0.5).</summary>
    public double QuantileFraction { get; init; } = 0.25;

    /// <summary>pbt: the chance that an explored parameter is resampled from its domain rather than perturbed.</summary>
    public double ResampleProbability { get; init; } = 0.25;

    public bool Pauses => Pausing.Contains(Algorithm);
}

/// <summary>When trials, and the experiment, stop.</summary>
public sealed record StopSpec
{
    /// <summary>A trial stops after this many reports.</summary>
    public int? TrainingIteration { get; init; }

    /// <summary>A trial stops once its metric reaches this value (at or below it for min, at or above for max).</summary>
    public double? MetricThreshold { get; init; }

    /// <summary>The whole experiment stops after this many seconds; running trials are stopped.</summary>
    public double? TimeBudgetS { get; init; }

    /// <summary>A trial stops once its metric has flattened out (Ray's <c>TrialPlateauStopper</c>); none when null.</summary>
    public TrialPlateauSpec? TrialPlateau { get; init; }

    /// <summary>The experiment stops once its best results have flattened out (Ray's <c>ExperimentPlateauStopper</c>); none when null.</summary>
    public ExperimentPlateauSpec? ExperimentPlateau { get; init; }
}

/// <summary>
/// <c>stop.trial_plateau</c>: a trial stops when the standard deviation of its last <see cref="NumResults"/> values of
/// <see cref="Metric"/> is below <see cref="Std"/>, once it has reported <see cref="GracePeriod"/> results and (with a
/// <see cref="MetricThreshold"/>) its value is at least that good. As Ray's <c>TrialPlateauStopper</c>, with its defaults.
/// </summary>
public sealed record TrialPlateauSpec
{
    /// <summary>The metric watched; null: the experiment's.</summary>
    public string? Metric { get; init; }

    public double Std { get; init; } = 0.01;

    public int NumResults { get; init; } = 4;

    public int GracePeriod { get; init; } = 4;

    /// <summary>Only a value at least this good (the mode's direction) may stop the trial; null: any value.</summary>
    public double? MetricThreshold { get; init; }

    /// <summary>The direction of <see cref="MetricThreshold"/>; null: the experiment's mode.</summary>
    public OptimizationMode? Mode { get; init; }
}

/// <summary>
/// <c>stop.experiment_plateau</c>: the experiment ends when the <see cref="Top"/> best values of <see cref="Metric"/>
/// reported so far (every result of every trial, as Ray counts them) have a standard deviation at most <see cref="Std"/>,
/// for more than <see cref="Patience"/> results in a row. As Ray's <c>ExperimentPlateauStopper</c>, with its defaults.
/// </summary>
public sealed record ExperimentPlateauSpec
{
    /// <summary>The metric watched; null: the experiment's.</summary>
    public string? Metric { get; init; }

    public int Top { get; init; } = 10;

    public double Std { get; init; } = 0.001;

    public int Patience { get; init; }

    /// <summary>Which values are the best; null: the experiment's mode.</summary>
    public OptimizationMode? Mode { get; init; }
}

/// <summary>What one trial holds while it runs: CPU slots (fractions allowed) and GPUs.</summary>
public sealed record ResourceSpec
{
    public double Cpu { get; init; } = 1;

    public double Gpu { get; init; }
}

/// <summary>How often a failed trial is retried from its last checkpoint before it is ERROR (Ray's FailureConfig).</summary>
public sealed record FailureSpec
{
    public int MaxFailures { get; init; }
}

/// <summary>How often trials save checkpoints (every N iterations; 0 = only when asked) and how many to keep.</summary>
/// <summary><c>loggers: { tensorboard: true, mlflow: { tracking_uri: URL, experiment: NAME } }</c>.</summary>
public sealed record LoggersSpec
{
    /// <summary>TensorBoard event files (scalars and HParams) in the run folder, as Ray writes by default.</summary>
    public bool TensorBoard { get; init; } = true;

    /// <summary>An MLflow tracking server each trial is logged to as a nested run; none by default.</summary>
    public MlflowSpec? Mlflow { get; init; }
}

/// <summary>An MLflow tracking server (its REST API) and the MLflow experiment to log under (default: the spec's name).</summary>
public sealed record MlflowSpec
{
    public required string TrackingUri { get; init; }

    public string? Experiment { get; init; }
}

public sealed record CheckpointSpec
{
    public int Frequency { get; init; }

    public int Keep { get; init; } = 1;
}

/// <summary>
/// A trainable the user brings: <c>trainable: { assembly: PATH, type: NAMESPACE.TYPE }</c>, a class
/// implementing <see cref="Trainables.ITrainable"/> loaded per experiment in a collectible load context;
/// or <c>trainable: { command: [program, args...], working_dir: PATH, env: {...} }</c>, any program
/// speaking <see cref="Protocol.TrialProcessProtocol"/>.
/// </summary>
public sealed record CustomTrainableSpec
{
    /// <summary>What environment values are replaced with wherever the spec is shown or written.</summary>
    public const string Hidden = "***";

    /// <summary>The assembly's path: absolute on the workers, or relative to the uploaded code (or the spec's folder).</summary>
    public string? Assembly { get; init; }

    public string? Type { get; init; }

    /// <summary>The program and its arguments.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    public string? WorkingDir { get; init; }

    /// <summary>Extra environment variables for the command; their values are treated as secrets.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public bool IsCommand => Command is not null;

    /// <summary>Relative paths (assembly, working folder) made absolute from <paramref name="baseDirectory"/>; the working folder defaults to it.</summary>
    public CustomTrainableSpec ResolvedFrom(string baseDirectory) => this with
    {
        Assembly = Assembly is null ? null : Path.GetFullPath(Assembly, baseDirectory),
        WorkingDir = IsCommand ? Path.GetFullPath(WorkingDir ?? ".", baseDirectory) : WorkingDir,
    };

    public CustomTrainableSpec Redacted() => this with { Env = Env.ToDictionary(e => e.Key, _ => Hidden, StringComparer.Ordinal) };

    /// <summary>The name shown for such a trainable: the type's name, or the program's file name.</summary>
    public string DisplayName => IsCommand
        ? Command!.Count > 0 ? Path.GetFileName(Command[0]) : "command"
        : Type ?? "assembly";

    public bool Equals(CustomTrainableSpec? other) =>
        other is not null && Assembly == other.Assembly && Type == other.Type && WorkingDir == other.WorkingDir
        && (Command ?? []).SequenceEqual(other.Command ?? []) && (Command is null) == (other.Command is null)
        && Env.Count == other.Env.Count && Env.All(e => other.Env.TryGetValue(e.Key, out var v) && v == e.Value);

    public override int GetHashCode() => HashCode.Combine(Assembly, Type, WorkingDir, Command?.Count, Env.Count);
}
