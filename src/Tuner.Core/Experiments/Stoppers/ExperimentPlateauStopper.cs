using System.Globalization;
using Tuner.Core.Spec;

namespace Tuner.Core.Experiments.Stoppers;

/// <summary>
/// Ray's <c>ExperimentPlateauStopper</c>: after each result (of any trial, intermediate ones too, as Ray counts them) the
/// <c>top</c> best values of the metric reported so far are kept; when there are <c>top</c> of them and their standard
/// deviation is at most <c>std</c>, the result counts towards the patience, otherwise the count starts again. The experiment
/// ends at a result where they have plateaued and the count has reached <c>patience</c> (0 and 1 both end it at the first).
/// Holds <c>top</c> numbers.
/// </summary>
public sealed class ExperimentPlateauStopper(ExperimentPlateauSpec spec, string experimentMetric, OptimizationMode experimentMode)
{
    // Best first: ascending for min, descending for max.
    private readonly List<double> _top = new(spec.Top + 1);
    private int _count;

    public string Metric { get; } = spec.Metric ?? experimentMetric;

    private OptimizationMode Mode => spec.Mode ?? experimentMode;

    /// <summary>Why the experiment ends after the results so far, or null.</summary>
    public string? Reason { get; private set; }

    public void Observe(TrialResult result)
    {
        if (result.GetMetric(Metric) is not { } value || !double.IsFinite(value))
        {
            return;
        }

        var key = Mode == OptimizationMode.Min ? value : -value;
        var at = 0;
        while (at < _top.Count && (Mode == OptimizationMode.Min ? _top[at] : -_top[at]) <= key)
        {
            at++;
        }

        if (at < spec.Top)
        {
            _top.Insert(at, value);
            if (_top.Count > spec.Top)
            {
                _top.RemoveAt(_top.Count - 1);
            }
        }

        var std = _top.Count == spec.Top ? StopCriteria.Std(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_top)) : double.PositiveInfinity;
        var plateaued = std <= spec.Std;
        _count = plateaued ? _count + 1 : 0;
        Reason = plateaued && _count >= spec.Patience
            ? string.Create(CultureInfo.InvariantCulture, $"experiment_plateau: the top {spec.Top} values of {Metric} have std {std:G4} <= {spec.Std:G4} ({_count} result(s) in a row, patience {spec.Patience})")
            : null;
    }
}
