using Microsoft.Extensions.Logging;
using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Results;
using Tuner.Core.Results.Sinks;
using Tuner.Core.Spec;
using Tuner.Core.Telemetry;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>
/// Where the controller's changes go: the journal (the write-ahead log a restart rebuilds the experiment
/// from), the run folder's trial files, the result sinks (TensorBoard, MLflow), telemetry and the
/// watchers' log. A replayed event is already in the journal and the sinks: it only makes the trial files
/// and the watchers' log again.
/// </summary>
internal sealed partial class ExperimentOutputs(string experimentId, ExperimentEventLog events, ExperimentTelemetry telemetry, TimeProvider time, ILogger logger) : IExperimentListener
{
    private long _lastDocumentUpdate;
    private long _lastSnapshotPosition;
    private long _lastSnapshotTime;

    /// <summary>The fewest events between two journal snapshots; more in larger experiments (see <see cref="MaybeSnapshot"/>).</summary>
    public const int SnapshotEvery = 50_000;

    /// <summary>A snapshot waits for at least this many events per trial the experiment has (its searcher's calls, an int each, grow with the trials).</summary>
    private const long SnapshotEventsPerTrial = 2;

    /// <summary>And at least this long after the last (bench restore: 4-5 s to run again after a kill at 90% of 100,000 trials).</summary>
    private static readonly TimeSpan SnapshotInterval = TimeSpan.FromSeconds(4);

    public RunFolderWriter? Writer { get; set; }

    /// <summary>The journal, appended to; null once the folder is closed (or for an experiment only read).</summary>
    public JournalWriter? Journal { get; set; }

    public ResultSinks? Sinks { get; set; }

    /// <summary>Where the controller's ended trials go (the folder's <c>trials.jsonl</c>); open while the grain is, for reading them back.</summary>
    public TrialArchive? Archive { get; set; }

    /// <summary>The live experiment's end, journaled but not yet shown to watchers.</summary>
    public ExperimentEvent? PendingEnd { get; set; }

    public void OnEvent(ExperimentEvent e, TrialRecord? trial, bool replayed)
    {
        if (!replayed && Journal is not null)
        {
            if (e.Position % ExperimentEventLog.IndexEvery == 0)
            {
                events.Indexed(e.Position, Journal.Length);
            }

            ExperimentJournal.WriteEvent(Journal, e);
            Writer!.MarkJournal(e.Position);
        }

        var id = e.TrialId!;
        switch (e.Kind)
        {
            case ExperimentEventKind.TrialCreated:
                Sinks?.TrialCreated(id, e.Config!, e.Time);
                break;
            case ExperimentEventKind.TrialStatus when e.TrialStatus!.Value.IsFinal():
                var status = e.TrialStatus.Value;
                if (!replayed)
                {
                    Sinks?.TrialEnded(id, status, e.Time);
                    if (status == TrialStatus.Error)
                    {
                        using (TunerTelemetry.Within(telemetry.TrialSpan(id)))
                        {
                            LogTrialError(logger, experimentId, id, e.Message);
                        }
                    }
                }

                break;
            case ExperimentEventKind.Result:
                Writer?.Append(id, e.Result!);
                if (!replayed)
                {
                    Sinks?.Result(id, e.Result!);
                }

                break;
        }

        if (!replayed)
        {
            telemetry.OnEvent(e, trial);
        }

        // The end of a live experiment is shown to watchers once its files are written (ExperimentFiles holds it then).
        if (replayed || e.Kind != ExperimentEventKind.ExperimentStatus || e.ExperimentStatus == ExperimentStatus.Running)
        {
            events.Hold(e);
        }
        else
        {
            PendingEnd = e;
        }
    }

    /// <summary>The spec's result sinks (TensorBoard, MLflow), told the experiment (re)started.</summary>
    public void OpenSinks(ExperimentSpec spec, string directory, DateTimeOffset at, bool resumed)
    {
        Sinks = ResultSinks.For(spec, experimentId, logger);
        Sinks.ExperimentStarted(spec, directory, at, resumed);
    }

    /// <summary>
    /// <c>experiment.json</c> written again, the journal flushed with it: unless <paramref name="force"/>, at most once a second,
    /// and once per second per 10,000 trials in larger experiments (it lists every trial, so its cost grows with them; the
    /// rows and the journal are written as results come).
    /// </summary>
    public void UpdateDocument(ExperimentController controller, bool force = true)
    {
        if (!force && time.GetElapsedTime(_lastDocumentUpdate) < TimeSpan.FromSeconds(Math.Max(1, controller.Trials.Count / 10_000.0)))
        {
            return;
        }

        _lastDocumentUpdate = time.GetTimestamp();
        if (Writer is { } writer)
        {
            Journal?.Flush();
            writer.UpdateExperiment(controller.Document(experimentId));
        }
    }

    /// <summary>
    /// A journal snapshot (<see cref="JournalSnapshot"/>) when enough has happened since the last: at least
    /// <see cref="SnapshotEvery"/> events and two per trial the experiment has (a restore's cost grows with the tail after
    /// it), and four seconds. Taken here, between calls: the open trials' rows and where the ended trials' archive ends (sealed,
    /// so the writer's thread can rely on it); serialised and written by the run folder's writer once the rows it covers are on
    /// disk. Experiments whose searcher or scheduler a snapshot cannot hold restore from the whole journal.
    /// </summary>
    public void MaybeSnapshot(ExperimentController controller)
    {
        var position = controller.NextPosition - 1;
        if (Writer is not { } writer || Journal is not { } journal
            || position - _lastSnapshotPosition < Math.Max(SnapshotEvery, SnapshotEventsPerTrial * controller.Trials.Count)
            || time.GetElapsedTime(_lastSnapshotTime) < SnapshotInterval
            || !controller.CanSnapshot)
        {
            return;
        }

        _lastSnapshotPosition = position;
        _lastSnapshotTime = time.GetTimestamp();
        var fsync = writer.Durability == Durability.Fsync;
        var capture = controller.CaptureSnapshot(toDisk: fsync);
        var journalBytes = journal.Length;
        var directory = writer.Directory;
        writer.QueueSnapshot(writer.RowsAppended, rows =>
        {
            try
            {
                JournalSnapshot.Write(directory, new JournalSnapshot.Header(position, journalBytes, rows), capture.ToBytes(), fsync);
            }
            catch (IOException ex)
            {
                // The journal is whole without it: a restore replays more of it.
                LogSnapshotFailed(logger, experimentId, ex);
            }
        });
    }

    /// <summary>
    /// The grain goes away: the sinks are closed, and the folder of a stopped experiment, kept open for a resume, too
    /// (the folder of any other is closed with its end already, unless <paramref name="keepFolder"/>).
    /// </summary>
    public async Task CloseAsync(bool keepFolder)
    {
        if (!keepFolder && Writer is { } writer)
        {
            try
            {
                await writer.DisposeAsync();
            }
            catch (IOException ex)
            {
                ExperimentLog.WriteFailed(logger, experimentId, ex);
            }
        }

        if (Sinks is { } sinks)
        {
            await sinks.DisposeAsync();
            Sinks = null;
        }

        // After the writer: its last experiment.json copies the ended trials' rows from the archive.
        Archive?.Dispose();
        Archive = null;
    }

    /// <summary>The last position up to <paramref name="last"/> written out to the journal (every one when the journal is closed).</summary>
    public long Durable(long last)
    {
        if (Journal is null || Writer is not { } writer || writer.DurableMark >= last)
        {
            return last;
        }

        try
        {
            return Math.Min(last, writer.FlushJournal());
        }
        catch (IOException)
        {
            return Math.Min(last, writer.DurableMark);
        }
    }

    public void OnAttempt(string trialId, int attempt, int failures)
    {
        if (Journal is not null)
        {
            ExperimentJournal.WriteAttempt(Journal, trialId, attempt, failures);
        }
    }

    public void OnInterrupted(IReadOnlyCollection<string> trials, IReadOnlyCollection<string> paused)
    {
        if (Journal is not null)
        {
            ExperimentJournal.WriteInterrupted(Journal, trials, paused);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Experiment {ExperimentId}: a journal snapshot could not be written")]
    private static partial void LogSnapshotFailed(ILogger logger, string experimentId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Experiment {ExperimentId}: trial {TrialId} ended in ERROR: {Error}")]
    private static partial void LogTrialError(ILogger logger, string experimentId, string trialId, string? error);
}
