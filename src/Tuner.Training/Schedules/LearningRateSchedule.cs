using System.Globalization;
using Tuner.Core.Space;

namespace Tuner.Training.Schedules;

/// <summary>
/// The learning rate over training, as PyTorch's schedulers compute it. Steps are epochs (or batches
/// for one-cycle, if the caller steps per batch): <see cref="Current"/> is the rate for the step
/// about to run; <see cref="Step"/> moves on, given the validation loss just measured (only
/// reduce-on-plateau looks at it). <see cref="State"/> and <see cref="Restore"/> carry a schedule
/// through a checkpoint.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The names <c>lr_scheduler</c> takes in a trial's config.</summary>
    public static IReadOnlyList<string> Names { get; } = ["none", "step", "cosine", "plateau", "onecycle"];

    public double Current { get; protected set; }

    /// <summary>Steps taken so far.</summary>
    public int Steps { get; protected set; }

    /// <summary>Moves to the next step, after <paramref name="validationLoss"/> was measured.</summary>
    public abstract void Step(double validationLoss);

    /// <summary>Everything needed to continue exactly: a few numbers.</summary>
    public virtual double[] State() => [Steps, Current];

    public virtual void Restore(double[] state)
    {
        Steps = (int)state[0];
        Current = state[1];
    }

    /// <summary>
    /// Builds the schedule a trial's config names: <c>lr</c> and <c>lr_scheduler</c> (none, step,
    /// cosine, plateau, onecycle) with its parameters, over <paramref name="totalSteps"/> steps.
    /// </summary>
    public static LearningRateSchedule FromConfig(TrialConfig config, int totalSteps)
    {
        var lr = Positive(config, "lr", 1e-3);
        var name = config.GetString("lr_scheduler", "none");
        return name switch
        {
            "none" => new ConstantSchedule(lr),
            "step" => new StepSchedule(lr, (int)PositiveInteger(config, "step_size", 10), Fraction(config, "gamma", 0.1)),
            "cosine" => new CosineWarmupSchedule(lr, (int)NonNegativeInteger(config, "warmup_epochs", 0), totalSteps, NonNegative(config, "min_lr", 0)),
            "plateau" => new ReduceOnPlateauSchedule(lr, Fraction(config, "factor", 0.1), (int)NonNegativeInteger(config, "patience", 10), NonNegative(config, "min_lr", 0)),
            "onecycle" => new OneCycleSchedule(Positive(config, "max_lr", lr * 10), totalSteps, Fraction(config, "pct_start", 0.3)),
            _ => throw new ArgumentException($"lr_scheduler: '{name}' is not one of the allowed values: {string.Join(", ", Names)}"),
        };
    }

    private static double Positive(TrialConfig config, string key, double fallback)
    {
        var value = config.GetDouble(key, fallback);
        return value > 0 && double.IsFinite(value) ? value : throw new ArgumentException($"{key}: must be a positive number, got {F(value)}");
    }

    private static double NonNegative(TrialConfig config, string key, double fallback)
    {
        var value = config.GetDouble(key, fallback);
        return value >= 0 && double.IsFinite(value) ? value : throw new ArgumentException($"{key}: must be zero or more, got {F(value)}");
    }

    private static double Fraction(TrialConfig config, string key, double fallback)
    {
        var value = config.GetDouble(key, fallback);
        return value is > 0 and < 1 ? value : throw new ArgumentException($"{key}: must be between 0 and 1 (exclusive), got {F(value)}");
    }

    private static long PositiveInteger(TrialConfig config, string key, long fallback)
    {
        var value = config.GetInteger(key, fallback);
        return value >= 1 ? value : throw new ArgumentException($"{key}: must be a whole number of at least 1, got {value}");
    }

    private static long NonNegativeInteger(TrialConfig config, string key, long fallback)
    {
        var value = config.GetInteger(key, fallback);
        return value >= 0 ? value : throw new ArgumentException($"{key}: must be a whole number of 0 or more, got {value}");
    }

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>The same rate throughout.</summary>
public sealed class ConstantSchedule : LearningRateSchedule
{
    public ConstantSchedule(double lr) => Current = lr;

    public override void Step(double validationLoss) => Steps++;
}

/// <summary>PyTorch's StepLR: multiplied by <c>gamma</c> every <c>step_size</c> steps.</summary>
public sealed class StepSchedule : LearningRateSchedule
{
    private readonly double _initial;
    private readonly int _stepSize;
    private readonly double _gamma;

    public StepSchedule(double lr, int stepSize, double gamma)
    {
        (_initial, _stepSize, _gamma) = (lr, stepSize, gamma);
        Current = lr;
    }

    public override void Step(double validationLoss)
    {
        Steps++;
        Current = _initial * Math.Pow(_gamma, Steps / _stepSize);
    }
}

/// <summary>
/// A linear warm-up from lr/warmup to lr over <c>warmup_epochs</c> steps, then a cosine decay to
/// <c>min_lr</c> at the last step (PyTorch's LinearLR followed by CosineAnnealingLR).
/// </summary>
public sealed class CosineWarmupSchedule : LearningRateSchedule
{
    private readonly double _peak;
    private readonly int _warmup;
    private readonly int _total;
    private readonly double _min;

    public CosineWarmupSchedule(double lr, int warmup, int total, double min)
    {
        if (total < 1 || warmup >= total)
        {
            throw new ArgumentException($"warmup_epochs: must be below the number of epochs ({total}), got {warmup}");
        }

        (_peak, _warmup, _total, _min) = (lr, warmup, total, min);
        Current = At(0);
    }

    public override void Step(double validationLoss)
    {
        Steps++;
        Current = At(Steps);
    }

    private double At(int step)
    {
        if (step < _warmup)
        {
            return _peak * (step + 1) / _warmup;
        }

        var progress = Math.Min(1.0, (step - _warmup) / (double)Math.Max(_total - _warmup - 1, 1));
        return _min + ((_peak - _min) * (1 + Math.Cos(Math.PI * progress)) / 2);
    }
}

/// <summary>
/// PyTorch's ReduceLROnPlateau (mode min, relative threshold 1e-4): when the validation loss has not
/// improved for more than <c>patience</c> steps, the rate is multiplied by <c>factor</c>, not below <c>min_lr</c>.
/// </summary>
public sealed class ReduceOnPlateauSchedule : LearningRateSchedule
{
    private const double Threshold = 1e-4;
    private readonly double _factor;
    private readonly int _patience;
    private readonly double _min;
    private double _best = double.PositiveInfinity;
    private int _bad;

    public ReduceOnPlateauSchedule(double lr, double factor, int patience, double min)
    {
        (_factor, _patience, _min) = (factor, patience, min);
        Current = lr;
    }

    public override void Step(double validationLoss)
    {
        Steps++;
        if (validationLoss < _best * (1 - Threshold))
        {
            _best = validationLoss;
            _bad = 0;
            return;
        }

        if (++_bad > _patience)
        {
            Current = Math.Max(Current * _factor, _min);
            _bad = 0;
        }
    }

    public override double[] State() => [Steps, Current, _best, _bad];

    public override void Restore(double[] state)
    {
        base.Restore(state);
        (_best, _bad) = (state[2], (int)state[3]);
    }
}

/// <summary>
/// PyTorch's OneCycleLR (cosine annealing, two phases): from max_lr/25 up to <c>max_lr</c> over
/// <c>pct_start</c> of the steps, then down to max_lr/25/10^4 at the last step.
/// </summary>
public sealed class OneCycleSchedule : LearningRateSchedule
{
    private const double DivFactor = 25;
    private const double FinalDivFactor = 1e4;
    private readonly double _max;
    private readonly int _total;
    private readonly double _peakStep;

    public OneCycleSchedule(double maxLr, int total, double pctStart)
    {
        if (total < 2)
        {
            throw new ArgumentException($"onecycle needs at least 2 steps, got {total}");
        }

        (_max, _total) = (maxLr, total);
        _peakStep = (pctStart * total) - 1;
        Current = At(0);
    }

    public double Initial => _max / DivFactor;

    public double Final => Initial / FinalDivFactor;

    public override void Step(double validationLoss)
    {
        Steps++;
        Current = At(Math.Min(Steps, _total - 1));
    }

    private double At(int step)
    {
        static double Anneal(double start, double end, double pct) => end + ((start - end) / 2 * (1 + Math.Cos(Math.PI * pct)));
        return step <= _peakStep
            ? Anneal(Initial, _max, _peakStep <= 0 ? 1 : step / _peakStep)
            : Anneal(_max, Final, (step - _peakStep) / (_total - 1 - _peakStep));
    }
}
