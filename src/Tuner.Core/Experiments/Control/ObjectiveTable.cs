using Tuner.Core.Search.Pareto;
using Tuner.Core.Spec;

namespace Tuner.Core.Experiments.Control;

/// <summary>
/// What the controller keeps of each trial's last result beyond the trial table's one metric: the trials whose last result
/// breaks a constraint (<c>constraint_*</c> above 0; few, kept by index), and, with several objectives, every trial's
/// objective vector (as minimised; a few doubles a trial) for the Pareto front, which is found again when asked after a change.
/// Fed by every recorded result, live or replayed.
/// </summary>
internal sealed class ObjectiveTable(ExperimentSpec spec)
{
    private readonly Objective[] _objectives = spec.IsMultiObjective ? [.. spec.Objectives] : [];
    private readonly List<double[]?> _vectors = [];
    private readonly HashSet<int> _infeasible = [];
    private List<int>? _front;

    /// <summary>Trials (by index) whose last result breaks a constraint.</summary>
    public IReadOnlySet<int> Infeasible => _infeasible;

    /// <summary>Trial <paramref name="index"/>'s last result is <paramref name="result"/>.</summary>
    public void Record(int index, TrialResult result)
    {
        if (Constraints.Violation(result.Metrics) > 0)
        {
            _infeasible.Add(index);
        }
        else
        {
            _infeasible.Remove(index);
        }

        if (_objectives.Length == 0)
        {
            return;
        }

        while (_vectors.Count < index)
        {
            _vectors.Add(null);
        }

        double[]? vector = new double[_objectives.Length];
        for (var i = 0; i < _objectives.Length; i++)
        {
            if (result.GetMetric(_objectives[i].Metric) is not { } value || double.IsNaN(value))
            {
                vector = null;
                break;
            }

            vector[i] = _objectives[i].Loss(value);
        }

        _vectors[index - 1] = vector;
        _front = null;
    }

    /// <summary>The feasible trials (by index, in order) whose objectives no other feasible trial dominates; empty with one objective.</summary>
    public IReadOnlyList<int> Front()
    {
        if (_front is not null)
        {
            return _front;
        }

        var candidates = new List<int>();
        var points = new List<double[]>();
        for (var i = 0; i < _vectors.Count; i++)
        {
            if (_vectors[i] is { } vector && !_infeasible.Contains(i + 1))
            {
                candidates.Add(i + 1);
                points.Add(vector);
            }
        }

        return _front = [.. Pareto.Front(points).Select(k => candidates[k])];
    }

    /// <summary>The objective vector (as minimised) of trial <paramref name="index"/>'s last result, or null.</summary>
    public double[]? VectorOf(int index) => index <= _vectors.Count ? _vectors[index - 1] : null;
}
