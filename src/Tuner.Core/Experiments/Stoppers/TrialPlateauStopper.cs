using System.Globalization;
using Tuner.Core.Spec;

namespace Tuner.Core.Experiments.Stoppers;

/// <summary>
/// Ray's <c>TrialPlateauStopper</c>: a trial stops when the standard deviation of its last <c>num_results</c> values of the
/// metric is below <c>std</c>, once it has reported <c>grace_period</c> results and, with a <c>metric_threshold</c>, its latest
/// value is at least that good. A result without the metric (or with a value that is not finite) counts, and keeps the trial
/// going until it leaves the window. Holds a window per open trial only.
/// </summary>
public sealed class TrialPlateauStopper(TrialPlateauSpec spec, string experimentMetric, OptimizationMode experimentMode)
{
    private readonly Dictionary<string, Window> _trials = new(StringComparer.Ordinal);

    public string Metric { get; } = spec.Metric ?? experimentMetric;

    private OptimizationMode Mode => spec.Mode ?? experimentMode;

    /// <summary>Trials with a window: the open ones that have reported.</summary>
    public int Tracked => _trials.Count;

    public void Observe(string trialId, TrialResult result)
    {
        if (!_trials.TryGetValue(trialId, out var window))
        {
            _trials[trialId] = window = new Window(spec.NumResults);
        }

        window.Add(result.GetMetric(Metric) is { } value && double.IsFinite(value) ? value : double.NaN);
    }

    public void Forget(string trialId) => _trials.Remove(trialId);

    /// <summary>Why the trial stops after its latest result, or null.</summary>
    public string? ShouldStop(string trialId, TrialResult result)
    {
        if (!_trials.TryGetValue(trialId, out var window) || window.Results < spec.GracePeriod || window.Results < spec.NumResults)
        {
            return null;
        }

        var latest = window.Latest;
        if (spec.MetricThreshold is { } threshold && !(Mode == OptimizationMode.Min ? latest <= threshold : latest >= threshold))
        {
            return null;
        }

        var std = StopCriteria.Std(window.Values);
        return std < spec.Std
            ? string.Create(CultureInfo.InvariantCulture, $"trial_plateau: {Metric}'s last {spec.NumResults} results have std {std:G4} < {spec.Std:G4} (after {window.Results} results)")
            : null;
    }

    /// <summary>The last values of one trial, oldest overwritten first.</summary>
    private sealed class Window(int size)
    {
        private readonly double[] _values = new double[size];

        public long Results { get; private set; }

        public double Latest => _values[(Results - 1) % _values.Length];

        /// <summary>The window's values in no particular order (full once <see cref="Results"/> reaches its size).</summary>
        public ReadOnlySpan<double> Values => _values.AsSpan(0, (int)Math.Min(Results, _values.Length));

        public void Add(double value)
        {
            _values[Results % _values.Length] = value;
            Results++;
        }
    }
}
