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

    public static IReadOnlyList<JsonElement> Results(string directory, string trialId)
    {
        var path = Path.Combine(directory, "trials", trialId, "result.jsonl");
        return File.Exists(path)
            ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList()
            : [];
    }

    public static IReadOnlyList<long> Iterations(string directory, string trialId) =>
        Results(directory, trialId).Select(r => r.GetProperty("training_iteration").GetInt64()).ToList();

    public static IEnumerable<string> TrialIds(string directory) =>
        Directory.GetDirectories(Path.Combine(directory, "trials")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!;
}
