using System.Text.Json;

namespace Tuner.Tests;

/// <summary>The rows a run folder's <c>results.jsonl</c> holds for one trial (every trial's results are rows of that one file).</summary>
internal static class RunRows
{
    /// <summary>The trial's rows, as written, in order.</summary>
    public static List<string> Lines(string runDirectory, string trialId)
    {
        var path = Path.Combine(runDirectory, "results.jsonl");
        if (!File.Exists(path))
        {
            return [];
        }

        return File.ReadAllLines(path)
            .Where(l => l.Length > 0 && TrialOf(l) == trialId)
            .ToList();
    }

    public static List<long> Iterations(string runDirectory, string trialId) =>
        Lines(runDirectory, trialId).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("training_iteration").GetInt64()).ToList();

    /// <summary>Every trial with rows, each with its rows joined (one string per trial, to compare before and after).</summary>
    public static Dictionary<string, string> ByTrial(string runDirectory)
    {
        var path = Path.Combine(runDirectory, "results.jsonl");
        return !File.Exists(path)
            ? []
            : File.ReadAllLines(path).Where(l => l.Length > 0).GroupBy(TrialOf).ToDictionary(g => g.Key, g => string.Join("\n", g), StringComparer.Ordinal);
    }

    private static string TrialOf(string line) => JsonDocument.Parse(line).RootElement.GetProperty("trial_id").GetString()!;
}
