using System.Globalization;
using System.Text.Json;
using Tuner.Core.Results;

namespace Tuner.Reports;

/// <summary>One trial as its run folder records it: config, status, every result, and the decisions taken about it.</summary>
public sealed record ReportTrial(
    string Id,
    string Status,
    IReadOnlyDictionary<string, JsonElement> Config,
    IReadOnlyList<ReportPoint> Results,
    IReadOnlyList<(long Iteration, string Action, string Reason)> Decisions,
    string? Diagnosis)
{
    /// <summary>What its last report says of the figures models are compared by (<see cref="RunFolder.ComparedMetrics"/>), where reported.</summary>
    public IReadOnlyDictionary<string, double> Compared { get; init; } = new Dictionary<string, double>();

    /// <summary>The nearest neighbours its learned embeddings left (<c>embeddings/neighbours.txt</c>), if any.</summary>
    public string? Neighbours { get; init; }

    /// <summary>With several objectives: each objective's value in its last report, where reported.</summary>
    public IReadOnlyDictionary<string, double> Objectives { get; init; } = new Dictionary<string, double>();

    /// <summary>The iteration a scheduler or stop rule stopped it at, if it was stopped early (not by reaching its end).</summary>
    public (long Iteration, string Reason)? StoppedAt { get; init; }

    public double? ValueAt(long iteration) => Results.FirstOrDefault(r => r.Iteration == iteration)?.Metric;

    public double? Last => Results.Count > 0 ? Results[^1].Metric : null;
}

/// <summary>One reported result: iteration, wall time since the experiment started, the experiment's metric.</summary>
public sealed record ReportPoint(long Iteration, double WallSeconds, double Metric, double? LearningRate, double? ValidLoss);

/// <summary>
/// What a run folder says (<c>experiment.json</c> with each trial's config, status and decisions, and the rows of <c>results.jsonl</c>),
/// read without the process that wrote it: a finished run, or one still being written.
/// </summary>
public sealed record RunFolder(
    string Directory,
    string Name,
    string Id,
    string Status,
    string Metric,
    string Mode,
    string Searcher,
    string Scheduler,
    IReadOnlyDictionary<string, int> StateCounts,
    IReadOnlyList<string> Parameters,
    IReadOnlyList<ReportTrial> Trials)
{
    /// <summary>Figures shown beside each trial when it reports them: its size, and its accuracy on validation and held-out data.</summary>
    public static IReadOnlyList<string> ComparedMetrics { get; } = ["parameters", "accuracy", "test_accuracy"];

    public bool Minimize => Mode == "min";

    /// <summary>With several objectives, each one's metric and mode (<c>min</c> or <c>max</c>), in order; empty with one.</summary>
    public IReadOnlyList<(string Metric, string Mode)> Objectives { get; init; } = [];

    /// <summary>With several objectives, the ids of the trials on the Pareto front (<c>experiment.json</c>'s <c>pareto_front</c>).</summary>
    public IReadOnlyList<string> ParetoFront { get; init; } = [];

    public static RunFolder Read(string directory)
    {
        var documentPath = Path.Combine(directory, "experiment.json");
        if (!File.Exists(documentPath))
        {
            throw new FileNotFoundException($"{directory} is not a run folder: it has no experiment.json (run folders are under the output folder, e.g. runs/<experiment>)", documentPath);
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(documentPath));
        var root = document.RootElement;
        var spec = root.GetProperty("spec");
        var metric = root.GetProperty("metric").GetString()!;
        var started = root.TryGetProperty("started_at", out var s) && s.ValueKind == JsonValueKind.String
            ? DateTimeOffset.Parse(s.GetString()!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() / 1000.0
            : (double?)null;
        var space = spec.TryGetProperty("space", out var sp) ? sp.EnumerateObject().Select(p => p.Name).ToList() : [];
        List<(string Metric, string Mode)> objectives = root.TryGetProperty("objectives", out var o) && o.ValueKind == JsonValueKind.Array
            ? [.. o.EnumerateArray().Select(x => (x.GetProperty("metric").GetString()!, x.GetProperty("mode").GetString()!))]
            : [];
        var trials = new List<ReportTrial>();
        var byTrial = RunFolderWriter.ReadByTrial(directory);
        foreach (var t in root.GetProperty("trials").EnumerateArray())
        {
            var id = t.GetProperty("trial_id").GetString()!;
            var config = t.GetProperty("config").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
            var results = byTrial.GetValueOrDefault(id) ?? [];
            started ??= results.Count > 0 ? results[0].Timestamp - results[0].TimeTotalS : 0;
            var points = results
                .Where(r => r.GetMetric(metric) is { } v && double.IsFinite(v))
                .Select(r => new ReportPoint(r.TrainingIteration, r.Timestamp - started.Value, r.GetMetric(metric)!.Value, r.GetMetric("lr"), r.GetMetric("valid_loss")))
                .ToList();
            var decisions = t.TryGetProperty("decisions", out var d) && d.ValueKind == JsonValueKind.Array
                ? d.EnumerateArray().Select(x => (x.GetProperty("training_iteration").GetInt64(), x.GetProperty("action").GetString()!, x.GetProperty("reason").GetString() ?? string.Empty)).ToList()
                : [];
            var status = t.GetProperty("status").GetString()!;
            var stop = decisions.LastOrDefault(x => x.Item2 == "stop");
            var neighbours = Path.Combine(directory, "trials", id, "embeddings", "neighbours.txt");
            var trial = new ReportTrial(id, status, config, points, decisions, t.TryGetProperty("diagnosis", out var g) ? g.GetString() : null)
            {
                Compared = results.Count == 0 ? new Dictionary<string, double>() : ComparedMetrics.Where(m => results[^1].GetMetric(m) is { } v && double.IsFinite(v)).ToDictionary(m => m, m => results[^1].GetMetric(m)!.Value),
                Neighbours = File.Exists(neighbours) ? File.ReadAllText(neighbours) : null,
                Objectives = results.Count == 0 ? new Dictionary<string, double>() : objectives.Where(x => results[^1].GetMetric(x.Metric) is { } v && double.IsFinite(v)).ToDictionary(x => x.Metric, x => results[^1].GetMetric(x.Metric)!.Value),
            };

            // Stopped early: a stop decision that is not the run simply reaching its end (stop.training_iteration, max_t).
            var earlyStop = stop.Item2 == "stop" && !IsEndOfBudget(spec, stop.Item1);
            trials.Add(earlyStop ? trial with { StoppedAt = (stop.Item1, stop.Item3) } : trial);
        }

        return new RunFolder(
            directory,
            root.GetProperty("name").GetString()!,
            root.GetProperty("id").GetString()!,
            root.GetProperty("status").GetString()!,
            metric,
            root.GetProperty("mode").GetString()!,
            spec.GetProperty("search").GetProperty("algorithm").GetString()!,
            spec.GetProperty("scheduler").GetProperty("algorithm").GetString()!,
            root.GetProperty("state_counts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32()),
            space,
            trials)
        {
            Objectives = objectives,
            ParetoFront = root.TryGetProperty("pareto_front", out var front) && front.ValueKind == JsonValueKind.Array
                ? [.. front.EnumerateArray().Select(x => x.GetProperty("trial_id").GetString()!)]
                : [],
        };
    }

    private static bool IsEndOfBudget(JsonElement spec, long iteration)
    {
        if (spec.TryGetProperty("stop", out var stop) && stop.TryGetProperty("training_iteration", out var max) && max.TryGetInt64(out var m) && iteration >= m)
        {
            return true;
        }

        return spec.GetProperty("scheduler").TryGetProperty("max_t", out var maxT) && maxT.TryGetDouble(out var t) && iteration >= t;
    }
}
