using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Search;

/// <summary>
/// Warm starts for any searcher: <c>search.points_to_evaluate</c> are the first configs, in order (Ray's
/// <c>points_to_evaluate</c>, Optuna's <c>enqueue_trial</c>), each adopted by the searcher so that it learns from their
/// trials as from its own; then the searcher suggests the rest of the experiment's configs. <c>search.evaluated</c> configs
/// (Ray's <c>evaluated_rewards</c>, Optuna's <c>add_trials</c>) are told to the searcher as completed trials before its first
/// suggestion; a searcher that learns from intermediate results (BOHB) sees each as one result at the <c>time_attr</c> value
/// its metrics give (0 without). A dimension a point leaves out is drawn from its domain (seeded by <c>search.seed</c>).
/// </summary>
public sealed class WarmStart : ISearcher
{
    private readonly ISearcher _inner;
    private readonly IReadOnlyList<TrialConfig> _points;
    private readonly long _innerBudget;
    private int _next;
    private long _innerSuggested;

    /// <param name="configs">How many configs the experiment runs: the points and the searcher's own suggestions together.</param>
    public WarmStart(ISearcher inner, ExperimentSpec spec, long configs)
    {
        _inner = inner;
        var random = new Random(unchecked(spec.Search.Seed + 0x5EED));
        _points = [.. spec.Search.PointsToEvaluate.Select(p => Complete(spec, p, random))];
        _innerBudget = Math.Max(configs - _points.Count, 0);
        for (var i = 0; i < spec.Search.Evaluated.Count; i++)
        {
            var (config, metrics) = spec.Search.Evaluated[i];
            var id = $"evaluated-{i}";
            inner.Adopt(id, Complete(spec, config, random));
            if (inner.LearnsFromResults)
            {
                var time = metrics.GetValueOrDefault(spec.Scheduler.TimeAttr);
                inner.OnTrialResult(id, new TrialResult((long)metrics.GetValueOrDefault("training_iteration", time), metrics.GetValueOrDefault("time_total_s", time), 0, metrics));
            }

            inner.OnTrialComplete(id, metrics, failed: false);
        }
    }

    /// <summary>The points, completed: what their trials run.</summary>
    public IReadOnlyList<TrialConfig> Points => _points;

    public bool IsExhausted => _next >= _points.Count && (_innerSuggested >= _innerBudget || _inner.IsExhausted);

    public bool LearnsFromResults => _inner.LearnsFromResults;

    public bool TrySuggest(string trialId, out TrialConfig config)
    {
        if (_next < _points.Count)
        {
            config = _points[_next++];
            _inner.Adopt(trialId, config);
            return true;
        }

        if (_innerSuggested >= _innerBudget || !_inner.TrySuggest(trialId, out config))
        {
            config = TrialConfig.Empty;
            return false;
        }

        _innerSuggested++;
        return true;
    }

    public void OnTrialResult(string trialId, TrialResult result) => _inner.OnTrialResult(trialId, result);

    public void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed) =>
        _inner.OnTrialComplete(trialId, lastMetrics, failed);

    /// <summary>A user's config as a trial runs it: whole numbers for float dimensions as floats, the dimensions it leaves out drawn, the fixed params after.</summary>
    private static TrialConfig Complete(ExperimentSpec spec, TrialConfig point, Random random)
    {
        var typed = point.Select(p => spec.Space.Contains(p.Key) && p.Value.Kind == ParamKind.Integer && IsFloat(spec.Space[p.Key])
            ? new KeyValuePair<string, ParamValue>(p.Key, ParamValue.Float(p.Value.AsDouble()))
            : p);
        var config = spec.Space.Complete(typed, random);
        return spec.Params.Count == 0 ? config : new TrialConfig(config.Concat(spec.Params));
    }

    private static bool IsFloat(Domain domain) => domain is UniformDomain or QUniformDomain or LogUniformDomain or QLogUniformDomain or NormalDomain;
}
