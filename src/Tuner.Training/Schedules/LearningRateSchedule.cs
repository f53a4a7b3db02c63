using Tuner.Core.Space;
using Tuner.Training.Configuration;

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
        var read = new ConfigReader(config);
        var lr = read.Positive("lr", 1e-3);
        return read.Choice("lr_scheduler", "none", Names) switch
        {
            "step" => new StepSchedule(lr, read.Integer("step_size", 10, 1, int.MaxValue), read.Fraction("gamma", 0.1)),
            "cosine" => new CosineWarmupSchedule(lr, read.Integer("warmup_epochs", 0, 0, int.MaxValue), totalSteps, read.NonNegative("min_lr", 0)),
            "plateau" => new ReduceOnPlateauSchedule(lr, read.Fraction("factor", 0.1), read.Integer("patience", 10, 0, int.MaxValue), read.NonNegative("min_lr", 0)),
            "onecycle" => new OneCycleSchedule(read.Positive("max_lr", lr * 10), totalSteps, read.Fraction("pct_start", 0.3)),
            _ => new ConstantSchedule(lr),
        };
    }
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
