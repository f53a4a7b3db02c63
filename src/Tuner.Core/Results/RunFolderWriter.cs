using System.Globalization;
using System.Text;
using System.Text.Json;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Results;

/// <summary>
/// Writes an experiment's run folder the way Ray lays it out:
/// <c>experiment.json</c>, and per trial <c>trials/&lt;id&gt;/params.json</c>, <c>result.jsonl</c>,
/// <c>progress.csv</c> (and <c>error.txt</c> when it failed). Callers record in memory and return at
/// once; a background loop writes what changed every <c>flushInterval</c>: results are appended,
/// the other files replaced through a temporary file and a rename.
/// </summary>
public sealed class RunFolderWriter : IAsyncDisposable
{
    private readonly Lock _gate = new();

    // One flush at a time: trial files are appended to, so two flushes must not write the same results.
    private readonly Lock _flushing = new();
    private readonly Dictionary<string, TrialFiles> _trials = new(StringComparer.Ordinal);
    private readonly HashSet<TrialFiles> _dirty = [];
    private TextWriter? _journal;
    private readonly FileStream _lock;
    private readonly Lock _journalFlush = new();
    private long _journalMark;
    private long _durableMark;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly TimeSpan _experimentInterval;
    private readonly TimeProvider _time;
    private ExperimentDocument? _document;
    private bool _documentDirty;
    private long _lastDocumentWrite;

    private RunFolderWriter(string directory, TimeSpan flushInterval, TimeProvider time)
    {
        Directory = directory;
        _time = time;
        _experimentInterval = TimeSpan.FromSeconds(1);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "trials"));
        _lock = Lock(directory) ?? throw new IOException($"{directory} is being written by another process (its {LockFileName} is held)");
        _loop = Task.Run(() => RunAsync(flushInterval));
    }

    /// <summary>Held (an exclusive lock on a file in the folder) while a writer has the folder open; the OS lets go when the process dies.</summary>
    public const string LockFileName = ".lock";

    /// <summary>True while a live process writes the folder (a run going on elsewhere must not be resumed here).</summary>
    public static bool IsInUse(string directory)
    {
        using var held = Lock(directory);
        return held is null && File.Exists(Path.Combine(directory, LockFileName));
    }

    private static FileStream? Lock(string directory)
    {
        try
        {
            return new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (System.IO.Directory.Exists(directory))
        {
            return null;
        }
    }

    /// <summary>The experiment's folder, <c>root/name</c> (or <c>root/name-2</c>, ... when that holds an earlier run).</summary>
    public string Directory { get; }

    public static RunFolderWriter Create(string root, string experimentName, TimeSpan? flushInterval = null, TimeProvider? time = null)
    {
        var directory = ChooseFolder(root, experimentName);
        try
        {
            return new RunFolderWriter(directory, flushInterval ?? TimeSpan.FromMilliseconds(50), time ?? TimeProvider.System);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create the results folder {directory}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Reopens the folder of an experiment being restored from its journal. The trials' result,
    /// progress and decision files are removed: the restore records them again from the journal,
    /// which is what counts (after a kill they may hold a little more than it does).
    /// </summary>
    public static RunFolderWriter Open(string directory, TimeSpan? flushInterval = null, TimeProvider? time = null)
    {
        var trials = Path.Combine(directory, "trials");
        if (System.IO.Directory.Exists(trials))
        {
            foreach (var trial in System.IO.Directory.EnumerateDirectories(trials))
            {
                foreach (var name in new[] { "result.jsonl", "progress.csv", "decisions.jsonl", "error.txt" })
                {
                    File.Delete(Path.Combine(trial, name));
                }
            }
        }

        return new RunFolderWriter(directory, flushInterval ?? TimeSpan.FromMilliseconds(50), time ?? TimeProvider.System);
    }

    /// <summary>An unused folder for the experiment: earlier runs are never overwritten.</summary>
    public static string ChooseFolder(string root, string experimentName)
    {
        var candidate = Path.GetFullPath(Path.Combine(root, experimentName));
        for (var n = 2; System.IO.Directory.Exists(candidate) && System.IO.Directory.EnumerateFileSystemEntries(candidate).Any(); n++)
        {
            candidate = Path.GetFullPath(Path.Combine(root, $"{experimentName}-{n}"));
        }

        return candidate;
    }

    public string TrialDirectory(string trialId) => Path.Combine(Directory, "trials", trialId);

    public void TrialCreated(string trialId, TrialConfig config)
    {
        lock (_gate)
        {
            var files = new TrialFiles(trialId, config) { ParamsPending = true };
            _trials[trialId] = files;
            _dirty.Add(files);
        }
    }

    /// <summary>A decision about the trial (pause, stop, resume, exploit), kept in its <c>decisions.jsonl</c>.</summary>
    public void Decision(string trialId, TrialDecision decision)
    {
        lock (_gate)
        {
            var files = _trials[trialId];
            files.Decisions.Add(decision);
            _dirty.Add(files);
        }
    }

    /// <summary>The trial goes on with another config (population-based training): its params.json is rewritten.</summary>
    public void ConfigChanged(string trialId, TrialConfig config)
    {
        lock (_gate)
        {
            var files = _trials[trialId];
            files.Config = config;
            files.ParamsPending = true;
            _dirty.Add(files);
        }
    }

    public void Append(string trialId, TrialResult result)
    {
        lock (_gate)
        {
            var files = _trials[trialId];
            files.Results.Add(result);
            _dirty.Add(files);
        }
    }

    /// <summary>The trial will report no more: flush it once more, then drop its results from memory.</summary>
    public void TrialEnded(string trialId, string? error)
    {
        lock (_gate)
        {
            var files = _trials[trialId];
            files.Ended = true;
            files.Error = error;
            _dirty.Add(files);
        }
    }

    public void UpdateExperiment(ExperimentDocument document)
    {
        lock (_gate)
        {
            _document = document;
            _documentDirty = true;
        }
    }

    /// <summary>Writes everything recorded so far; <paramref name="force"/> writes experiment.json even inside its interval.</summary>
    public void Flush(bool force = true)
    {
        lock (_flushing)
        {
            FlushLocked(force);
        }
    }

    private void FlushLocked(bool force)
    {
        // The journal first: the files below never get ahead of it.
        FlushJournal();
        TrialFiles[] dirty;
        lock (_gate)
        {
            dirty = [.. _dirty];
            _dirty.Clear();
        }

        for (var i = 0; i < dirty.Length; i++)
        {
            try
            {
                WriteTrial(dirty[i]);
            }
            catch
            {
                // What was not written stays dirty, for the next flush to retry.
                lock (_gate)
                {
                    _dirty.UnionWith(dirty[i..]);
                }

                throw;
            }
        }

        ExperimentDocument? document = null;
        lock (_gate)
        {
            var due = force || _time.GetElapsedTime(_lastDocumentWrite) >= _experimentInterval;
            if (_documentDirty && due)
            {
                document = _document;
                _documentDirty = false;
            }
        }

        if (document is not null)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = ResultJson.Encoder }))
            {
                ResultJson.WriteExperiment(w, document);
            }

            AtomicFile.Write(Path.Combine(Directory, "experiment.json"), buffer.ToArray());
            _lastDocumentWrite = _time.GetTimestamp();
        }
    }

    /// <summary>Writes one trial's changed files; its pending state is cleared only once they are on disk.</summary>
    private void WriteTrial(TrialFiles files)
    {
        var directory = TrialDirectory(files.TrialId);
        TrialResult[] results;
        bool writeParams;
        bool ended;
        string? error;
        TrialDecision[] decisions;
        lock (_gate)
        {
            decisions = files.Decisions.Count != files.DecisionsWritten ? [.. files.Decisions] : [];
            results = [.. files.Results];
            writeParams = files.ParamsPending;
            ended = files.Ended;
            error = files.Error;
        }

        System.IO.Directory.CreateDirectory(directory);
        if (writeParams)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = ResultJson.Encoder }))
            {
                SpecWriter.WriteConfig(w, files.Config);
            }

            AtomicFile.Write(Path.Combine(directory, "params.json"), buffer.ToArray());
        }

        if (results.Length > 0)
        {
            // Appended, not rewritten: a trial's files grow by what it reported since the last flush.
            // Only a metric appearing for the first time rewrites progress.csv, for its header.
            var jsonl = Path.Combine(directory, "result.jsonl");
            var csv = Path.Combine(directory, "progress.csv");
            var columns = files.Columns;
            var newColumns = results.SelectMany(r => r.Metrics.Keys).Where(k => !columns.Contains(k)).Distinct(StringComparer.Ordinal).ToList();
            AppendBytes(jsonl, Jsonl(files.TrialId, results));
            if (newColumns.Count > 0 || !File.Exists(csv))
            {
                columns = [.. columns, .. newColumns];
                AtomicFile.Write(csv, Csv(files.TrialId, ReadResults(jsonl).ToArray(), columns, header: true));
            }
            else
            {
                AppendBytes(csv, Encoding.UTF8.GetBytes(Csv(files.TrialId, results, columns, header: false)));
            }

            files.Columns = columns;
        }

        if (decisions.Length > 0)
        {
            using var buffer = new MemoryStream();
            foreach (var decision in decisions)
            {
                using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = ResultJson.Encoder }))
                {
                    ResultJson.WriteDecision(w, decision);
                }

                buffer.WriteByte((byte)'\n');
            }

            AtomicFile.Write(Path.Combine(directory, "decisions.jsonl"), buffer.ToArray());
        }

        if (ended && error is not null)
        {
            AtomicFile.Write(Path.Combine(directory, "error.txt"), error + Environment.NewLine);
        }

        lock (_gate)
        {
            files.ParamsPending &= !writeParams;
            files.DecisionsWritten = Math.Max(files.DecisionsWritten, decisions.Length);
            // Written: they leave memory (results recorded meanwhile stay for the next flush).
            files.Results.RemoveRange(0, results.Length);
        }
    }

    private static byte[] Jsonl(string trialId, TrialResult[] results)
    {
        using var buffer = new MemoryStream(results.Length * 128);
        foreach (var result in results)
        {
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = ResultJson.Encoder }))
            {
                ResultJson.WriteResult(w, trialId, result);
            }

            buffer.WriteByte((byte)'\n');
        }

        return buffer.ToArray();
    }

    private static string Csv(string trialId, TrialResult[] results, IReadOnlyList<string> columns, bool header)
    {
        var sb = new StringBuilder(results.Length * 96);
        if (header)
        {
            sb.Append("training_iteration,time_total_s,timestamp,trial_id");
            foreach (var column in columns)
            {
                sb.Append(',').Append(CsvField(column));
            }

            sb.Append('\n');
        }

        foreach (var result in results)
        {
            sb.Append(result.TrainingIteration.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(result.TimeTotalS.ToString("R", CultureInfo.InvariantCulture)).Append(',')
              .Append(result.Timestamp.ToString("R", CultureInfo.InvariantCulture)).Append(',')
              .Append(CsvField(trialId));
            foreach (var column in columns)
            {
                sb.Append(',');
                if (result.Metrics.TryGetValue(column, out var v))
                {
                    sb.Append(v.ToString("R", CultureInfo.InvariantCulture));
                }
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    private static string CsvField(string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;

    private static void AppendBytes(string path, byte[] bytes)
    {
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        stream.Write(bytes);
    }

    /// <summary>The results in a <c>result.jsonl</c>; a last line cut short (a crash while it was appended) is left out.</summary>
    public static List<TrialResult> ReadResults(string path)
    {
        var list = new List<TrialResult>();
        if (!File.Exists(path))
        {
            return list;
        }

        foreach (var line in File.ReadLines(path).Where(l => l.Length > 0))
        {
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(line);
            }
            catch (JsonException)
            {
                break;
            }

            list.Add(ResultJson.ReadResult(doc.RootElement));
            doc.Dispose();
        }

        return list;
    }

    private async Task RunAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    Flush(force: false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Keep recording: the next flush retries, and the final one reports a lasting failure.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// The experiment's journal (<paramref name="fileName"/>), appended to: written by the caller, flushed
    /// before every flush of the other files and closed with the folder. Safe to write from any thread.
    /// </summary>
    public TextWriter OpenJournal(string fileName)
    {
        var log = TextWriter.Synchronized(new StreamWriter(Path.Combine(Directory, fileName), append: true, new UTF8Encoding(false)));
        _journal = log;
        return log;
    }

    /// <summary>The caller's position of what it has written to the journal so far (its last event's).</summary>
    public void MarkJournal(long mark) => Volatile.Write(ref _journalMark, mark);

    /// <summary>The last mark whose lines are known to be written out (they survive the process being killed).</summary>
    public long DurableMark => Volatile.Read(ref _durableMark);

    /// <summary>Writes out the journal's buffered lines now and returns the mark they reach.</summary>
    public long FlushJournal()
    {
        lock (_journalFlush)
        {
            var mark = Volatile.Read(ref _journalMark);
            _journal?.Flush();
            Volatile.Write(ref _durableMark, mark);
            return mark;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
        try
        {
            await DisposeWritersAsync().ConfigureAwait(false);
        }
        finally
        {
            await _lock.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask DisposeWritersAsync()
    {
        try
        {
            Flush(force: true);
            if (_journal is not null)
            {
                await _journal.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"could not write results under {Directory}: {ex.Message}", ex);
        }
    }

    private sealed class TrialFiles(string trialId, TrialConfig config)
    {
        public string TrialId { get; } = trialId;

        public TrialConfig Config { get; set; } = config;

        /// <summary>Results recorded and not yet written.</summary>
        public List<TrialResult> Results { get; } = [];

        /// <summary>The metric columns of progress.csv, in order.</summary>
        public List<string> Columns { get; set; } = [];

        public bool ParamsPending { get; set; }

        public List<TrialDecision> Decisions { get; } = [];

        public int DecisionsWritten { get; set; }

        public bool Ended { get; set; }

        public string? Error { get; set; }
    }
}
