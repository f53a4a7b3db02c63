using System.Globalization;
using Tuner.Core.Spec;

namespace Tuner.Core.Experiments.Stoppers;

/// <summary>
/// The spec's <c>stop:</c> rules, combined by OR (Ray's <c>CombinedStopper</c>): per trial an iteration count, a metric
/// threshold and <see cref="TrialPlateauStopper"/>; for the whole experiment <see cref="ExperimentPlateauStopper"/> (the time
/// budget is the host's timer). The plateau rules learn from every recorded result (<see cref="Observe"/>), live or replayed
/// from the journal, so a restore that replays the results rebuilds them.
/// </summary>
public sealed class StopCriteria
{
    private readonly ExperimentSpec _spec;
    private readonly TrialPlateauStopper? _trialPlateau;
    private readonly ExperimentPlateauStopper? _experimentPlateau;

    public StopCriteria(ExperimentSpec spec)
    {
        _spec = spec;
        _trialPlateau = spec.Stop.TrialPlateau is { } trial ? new TrialPlateauStopper(trial, spec.Metric, spec.Mode) : null;
        _experimentPlateau = spec.Stop.ExperimentPlateau is { } experiment ? new ExperimentPlateauStopper(experiment, spec.Metric, spec.Mode) : null;
    }

    /// <summary>Whether a rule keeps state learned from results (a snapshot does not hold it: restores replay the results).</summary>
    public bool HasState => _trialPlateau is not null || _experimentPlateau is not null;

    /// <summary>Whether some rule may answer a result with something other than "continue".</summary>
    public bool Decides => _spec.Stop.TrainingIteration is not null || _spec.Stop.MetricThreshold is not null || HasState;

    /// <summary>A result was recorded for <paramref name="trialId"/>.</summary>
    public void Observe(string trialId, TrialResult result)
    {
        _trialPlateau?.Observe(trialId, result);
        _experimentPlateau?.Observe(result);
    }

    /// <summary>The trial ended: the rules forget it.</summary>
    public void Ended(string trialId) => _trialPlateau?.Forget(trialId);

    /// <summary>Why the trial should stop after <paramref name="result"/> (already observed), or null to let it go on.</summary>
    public string? ShouldStop(string trialId, TrialResult result)
    {
        if (_spec.Stop.TrainingIteration is { } max && result.TrainingIteration >= max)
        {
            return $"training_iteration reached {max}";
        }

        if (_spec.Stop.MetricThreshold is { } threshold && result.GetMetric(_spec.Metric) is { } value)
        {
            var reached = _spec.Mode == OptimizationMode.Min ? value <= threshold : value >= threshold;
            if (reached)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{_spec.Metric} {value:G6} reached the threshold {threshold:G6}");
            }
        }

        return _trialPlateau?.ShouldStop(trialId, result);
    }

    /// <summary>Why the whole experiment should end now, or null.</summary>
    public string? ShouldEndExperiment() => _experimentPlateau?.Reason;

    /// <summary>The population standard deviation (numpy's <c>std</c>, as Ray's stoppers compute it).</summary>
    internal static double Std(ReadOnlySpan<double> values)
    {
        var mean = 0.0;
        foreach (var v in values)
        {
            mean += v;
        }

        mean /= values.Length;
        var squares = 0.0;
        foreach (var v in values)
        {
            squares += (v - mean) * (v - mean);
        }

        return Math.Sqrt(squares / values.Length);
    }
}
