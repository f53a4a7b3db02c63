using System.Text.Json;
using Tuner.Core.Spec;

namespace Tuner.Core.Results;

/// <summary>
/// What a run folder's journal (<c>journal.jsonl</c>) says about the run without replaying it: which
/// experiment it is, its spec, and whether it ended. Used to find the run a killed <c>tuner run</c>
/// left unfinished, as Ray's <c>Tuner.restore</c> finds an experiment's state in its folder.
/// </summary>
public sealed record RunJournal(string Directory, string ExperimentId, string SpecJson, string? Status)
{
    public const string FileName = "journal.jsonl";

    /// <summary>True unless the run completed or failed: a killed or stopped run can go on.</summary>
    public bool IsUnfinished => Status is null or "running" or "stopped";

    /// <summary>The journal of the run in <paramref name="directory"/>, or null when it has none (or an unreadable one).</summary>
    public static RunJournal? TryRead(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var reader = new StreamReader(path);
            if (reader.ReadLine() is not { } first)
            {
                return null;
            }

            using var start = JsonDocument.Parse(first);
            if (start.RootElement.GetProperty("event").GetString() != "start")
            {
                return null;
            }

            // The status as experiment.json last had it (a killed run's still says running).
            string? status = null;
            var document = Path.Combine(directory, "experiment.json");
            if (File.Exists(document))
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(document));
                status = doc.RootElement.TryGetProperty("status", out var s) ? s.GetString() : null;
            }

            return new RunJournal(directory, start.RootElement.GetProperty("id").GetString()!, start.RootElement.GetProperty("spec").GetRawText(), status);
        }
        catch (Exception ex) when (ex is JsonException or IOException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// The newest completed run under <paramref name="root"/> (<c>root/name</c>, <c>root/name-2</c>, ...) of <paramref name="spec"/>
    /// but for its samples (what an extension changes), or null.
    /// </summary>
    public static RunJournal? FindCompleted(string root, ExperimentSpec spec)
    {
        static string WithoutSamples(ExperimentSpec s) => SpecWriter.ToJson(s.Redacted() with { Samples = 0 });
        var json = WithoutSamples(spec);
        return RunsOf(root, spec.Name).LastOrDefault(run => run.Status == "completed" && WithoutSamples(SpecParser.ParseStructure(run.SpecJson)) == json);
    }

    /// <summary>
    /// The newest unfinished run of exactly <paramref name="spec"/> under <paramref name="root"/>
    /// (<c>root/name</c>, <c>root/name-2</c>, ...), or null.
    /// </summary>
    public static RunJournal? FindUnfinished(string root, ExperimentSpec spec)
    {
        // The journal holds the spec redacted (a command's environment values are secrets).
        var json = SpecWriter.ToJson(spec.Redacted());
        return RunsOf(root, spec.Name).LastOrDefault(run => run.IsUnfinished && run.SpecJson == json);
    }

    /// <summary>The runs named <paramref name="name"/> under <paramref name="root"/> (<c>name</c>, <c>name-2</c>, ...), oldest first, but those another process is writing (going on, not finished or unfinished).</summary>
    private static IEnumerable<RunJournal> RunsOf(string root, string name)
    {
        var candidate = Path.GetFullPath(Path.Combine(root, name));
        for (var n = 2; System.IO.Directory.Exists(candidate); n++)
        {
            if (TryRead(candidate) is { } run && !RunFolderWriter.IsInUse(candidate))
            {
                yield return run;
            }

            candidate = Path.GetFullPath(Path.Combine(root, $"{name}-{n}"));
        }
    }
}
