using System.Text.Json;

namespace Tuner.Integration.Tests;

/// <summary>Reads what an experiment left on disk.</summary>
internal static class RunFolder
{
    public static JsonElement Experiment(string directory)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "experiment.json")));
        return doc.RootElement.Clone();
    }

    /// <summary>The trial's rows of the run's results.jsonl, in order.</summary>
    public static IReadOnlyList<JsonElement> Results(string directory, string trialId)
    {
        var path = Path.Combine(directory, "results.jsonl");
        return File.Exists(path)
            ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).Where(r => r.GetProperty("trial_id").GetString() == trialId).ToList()
            : [];
    }

    /// <summary>The trial's entry in experiment.json (config, status, decisions, status_reason).</summary>
    public static JsonElement Trial(string directory, string trialId) =>
        Experiment(directory).GetProperty("trials").EnumerateArray().Single(t => t.GetProperty("trial_id").GetString() == trialId);

    public static IReadOnlyList<long> Iterations(string directory, string trialId) =>
        Results(directory, trialId).Select(r => r.GetProperty("training_iteration").GetInt64()).ToList();

    public static IEnumerable<string> TrialIds(string directory) =>
        Experiment(directory).GetProperty("trials").EnumerateArray().Select(t => t.GetProperty("trial_id").GetString()!).Order(StringComparer.Ordinal);
}
