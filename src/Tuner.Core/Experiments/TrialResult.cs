namespace Tuner.Core.Experiments;

/// <summary>
/// One report of a trial, as written to <c>result.jsonl</c>: the iteration (1, 2, ...), seconds since
/// the trial first started, the wall-clock time (Unix seconds) and the trainable's metrics.
/// </summary>
public sealed record TrialResult(long TrainingIteration, double TimeTotalS, double Timestamp, IReadOnlyDictionary<string, double> Metrics)
{
    public double? GetMetric(string name) => Metrics.TryGetValue(name, out var v) ? v : null;
}
