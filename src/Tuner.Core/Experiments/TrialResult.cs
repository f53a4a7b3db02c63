namespace Tuner.Core.Experiments;

/// <summary>
/// One report of a trial, as written to <c>result.jsonl</c>: the iteration (1, 2, ...), seconds since
/// the trial first started, the wall-clock time (Unix seconds), the trainable's metrics, and the
/// iterations since the run last started or was restored from a checkpoint (1 for the first report
/// of every attempt; Ray's <c>iterations_since_restore</c>).
/// </summary>
public sealed record TrialResult(long TrainingIteration, double TimeTotalS, double Timestamp, IReadOnlyDictionary<string, double> Metrics, long IterationsSinceRestore = 0)
{
    public double? GetMetric(string name) => Metrics.TryGetValue(name, out var v) ? v : null;
}
