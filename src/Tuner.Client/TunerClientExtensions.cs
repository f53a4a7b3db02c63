using Tuner.Abstractions.Messages;
using Tuner.Client.Results;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Client;

/// <summary>Progress of a running experiment, reported by <see cref="TunerClientExtensions.RunAsync"/>.</summary>
public sealed record ExperimentProgress(string ExperimentId, long TotalTrials, IReadOnlyDictionary<TrialStatus, int> Counts, long Results, string? BestTrialId, double? BestMetric, ExperimentEvent? LastEvent);

public static class TunerClientExtensions
{
    /// <summary>
    /// Runs an experiment to its end: submits it, follows its events (reporting progress), and
    /// returns every trial with all its results. When <paramref name="cancellationToken"/> fires the
    /// experiment is stopped, and the grid holds what it had done.
    /// </summary>
    public static async Task<ResultGrid> RunAsync(this ITunerClient client, ExperimentSpec spec, IProgress<ExperimentProgress>? progress = null, SubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        var submitted = await client.SubmitAsync(spec, options, CancellationToken.None).ConfigureAwait(false);
        var id = submitted.ExperimentId;
        return await client.FollowAsync(id, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Follows a submitted experiment to its end, as <see cref="RunAsync"/> does after submitting.</summary>
    public static async Task<ResultGrid> FollowAsync(this ITunerClient client, string experimentId, IProgress<ExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var first = await client.GetAsync(experimentId, 0, CancellationToken.None).ConfigureAwait(false);
        var trials = new Dictionary<string, TrialState>(StringComparer.Ordinal);
        var counts = new Dictionary<TrialStatus, int>();
        var results = 0L;
        string? bestId = null;
        double? best = null;
        var minimise = first.Mode == OptimizationMode.Min;
        using var stop = cancellationToken.Register(() => _ = client.StopAsync(experimentId, "stopped by the user", CancellationToken.None));
        await foreach (var e in client.WatchAsync(experimentId, 0, CancellationToken.None).ConfigureAwait(false))
        {
            switch (e.Kind)
            {
                case ExperimentEventKind.TrialCreated:
                    trials[e.TrialId!] = new TrialState(e.Config ?? TrialConfig.Empty);
                    Move(counts, null, TrialStatus.Pending);
                    break;
                case ExperimentEventKind.TrialStatus when trials.TryGetValue(e.TrialId!, out var t):
                    Move(counts, t.Status, e.TrialStatus!.Value);
                    t.Status = e.TrialStatus!.Value;
                    t.Reason = e.Message ?? t.Reason;
                    break;
                case ExperimentEventKind.ConfigChanged when trials.TryGetValue(e.TrialId!, out var t):
                    t.Config = e.Config ?? t.Config;
                    break;
                case ExperimentEventKind.Result when trials.TryGetValue(e.TrialId!, out var t):
                    t.Results.Add(e.Result!);
                    results++;
                    if (e.Result!.GetMetric(first.Metric) is { } value && !double.IsNaN(value) && (best is null || (minimise ? value < best : value > best)))
                    {
                        best = value;
                        bestId = e.TrialId;
                    }

                    break;
            }

            progress?.Report(new ExperimentProgress(experimentId, first.TotalTrials, new Dictionary<TrialStatus, int>(counts), results, bestId, best, e));
        }

        var final = await client.GetAsync(experimentId, int.MaxValue, CancellationToken.None).ConfigureAwait(false);
        var failures = final.Rows.ToDictionary(r => r.TrialId, r => r, StringComparer.Ordinal);
        var grid = trials.OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => new TrialResults(
                t.Key,
                failures.TryGetValue(t.Key, out var row) ? row.Status : t.Value.Status,
                t.Value.Config,
                t.Value.Results,
                row?.Failures ?? 0,
                row?.StatusReason ?? t.Value.Reason))
            .ToList();
        return new ResultGrid(final, grid);
    }

    private static void Move(Dictionary<TrialStatus, int> counts, TrialStatus? from, TrialStatus to)
    {
        if (from is { } f)
        {
            counts[f] = counts.GetValueOrDefault(f) - 1;
        }

        counts[to] = counts.GetValueOrDefault(to) + 1;
    }

    private sealed class TrialState(TrialConfig config)
    {
        public TrialConfig Config { get; set; } = config;

        public TrialStatus Status { get; set; } = TrialStatus.Pending;

        public string? Reason { get; set; }

        public List<TrialResult> Results { get; } = [];
    }
}
