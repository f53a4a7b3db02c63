using System.Text.Json;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Results;
using Tuner.Core.Spec;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>
/// Brings an experiment back from the journal in its run folder: the journal read (a torn last line cut),
/// checked to be this experiment's, its spec completed with the secrets it holds redacted, and replayed into
/// a controller (<see cref="ExperimentReplay"/>) whose outputs write the trial files again, unless the
/// experiment completed or failed: its files are final and it is only read.
/// </summary>
internal static class ExperimentRestorer
{
    /// <returns>The replay, its outputs, and whether the experiment completed and was extended since (it is to go on: see <see cref="ExperimentController.Extend"/>).</returns>
    public static (ExperimentReplay Replay, ExperimentOutputs Outputs, bool ExtendPending) Replay(
        string experimentId,
        string directory,
        ExperimentSpec? supplied,
        ExperimentLocation? record,
        Func<ExperimentSpec, ExperimentOutputs> outputsFor,
        TimeProvider time)
    {
        var path = Path.Combine(directory, ExperimentJournal.FileName);
        var start = ExperimentJournal.ReadStart(path);
        var (journalId, _, spec) = ExperimentReplay.ReadStart([start]);
        if (journalId != experimentId)
        {
            throw new TunerRequestException(RequestFailure.FailedPrecondition, $"the journal in {directory} is experiment {journalId}'s, not {experimentId}'s");
        }

        if (spec.Custom is { Env.Count: > 0 } custom && record?.Secrets is { } secrets)
        {
            // The journal holds the command's environment redacted; its values come from the grain's record.
            spec = spec with { Custom = custom with { Env = secrets } };
        }
        else if (spec.Custom is { Env.Count: > 0 } && supplied is not null && SpecWriter.ToJson(supplied.Redacted()) == SpecWriter.ToJson(spec))
        {
            // Or from the spec the caller supplies (the command line reads it again from its file).
            spec = supplied;
        }

        // The newest whole snapshot, and the journal's tail after it; without one, the whole journal.
        var snapshot = JournalSnapshot.Newest(directory, new FileInfo(path).Length, TrialArchiveFile.LengthIn(directory));
        var archived = snapshot is { } newest ? JournalSnapshot.ArchivedBytes(newest.Body) : 0;
        using var body = snapshot?.Body;
        var lines = snapshot is { } s ? ExperimentJournal.ReadFrom(path, s.Header.JournalBytes) : ExperimentJournal.Read(path);

        // An extended experiment replays with the samples it was extended to (the snapshot's, or a later extended line's).
        var snapshotSamples = snapshot is { } withSamples && withSamples.Body.RootElement.GetProperty("controller").TryGetProperty("samples", out var n) ? n.GetInt32() : 0;
        var samples = Math.Max(ExperimentJournal.ExtendedSamples(lines) ?? 0, snapshotSamples);
        if (samples > spec.Samples)
        {
            spec = spec with { Samples = samples };
        }

        var extendPending = ExperimentJournal.ExtendPending(lines);
        var outputs = outputsFor(spec);
        var endedForGood = !extendPending && (snapshot is { } taken
            ? EndedForGood(taken.Body.RootElement.GetProperty("controller").GetProperty("status").GetString(), lines)
            : ExperimentReplay.EndedForGood(lines));
        if (!endedForGood)
        {
            // The rows and the ended trials after the snapshot go: the tail's replay records them again.
            outputs.Writer = RunFolderWriter.Open(directory, durability: spec.Durability, keep: snapshot?.Header.Rows);
            outputs.Journal = outputs.Writer.OpenJournal(ExperimentJournal.FileName);
            outputs.Archive = TrialArchiveFile.Open(directory, archived);
        }
        else
        {
            // Only read: the folder is final, the ended trials are read from a copy.
            outputs.Archive = MemoryTrialArchive.CopyOf(directory, archived);
        }

        var replay = snapshot is { } from
            ? ExperimentReplay.FromSnapshot(spec, from.Body.RootElement, lines, outputs, time, outputs.Journal, outputs.Archive)
            : ExperimentReplay.Run(spec, lines, outputs, time, outputs.Journal, outputs.Archive);
        return (replay, outputs, extendPending);
    }

    /// <summary>Whether the experiment's last status, the snapshot's unless the tail changes it, is completed or failed.</summary>
    private static bool EndedForGood(string? snapshotStatus, IReadOnlyList<JsonElement> tail) =>
        ExperimentReplay.EndedForGood(tail)
        || (snapshotStatus is "completed" or "failed" && !tail.Any(l => l.GetProperty("event").GetString() == "experiment" && l.TryGetProperty("experiment_status", out _)));
}
