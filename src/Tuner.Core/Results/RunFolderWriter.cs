using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tuner.Core.Experiments;

namespace Tuner.Core.Results;

/// <summary>
/// Writes an experiment's run folder: <c>experiment.json</c> (the experiment with every trial's config, status,
/// decisions and error), <c>journal.jsonl</c> (the write-ahead log), and one row per result in the run's
/// <c>results.jsonl</c> and <c>progress.csv</c>, with the trial's id in each row. A trial's own folder,
/// <c>trials/&lt;id&gt;</c>, holds only what is the trial's alone (checkpoints, TensorBoard events, embeddings), so a
/// run of 100,000 cheap trials is a handful of files, not hundreds of thousands (Ray's per-trial files fill inode
/// quotas at that scale). Callers record in memory and return at once; a background loop writes what changed
/// every <c>flushInterval</c>: the journal first, then the rows, appended, and the snapshot the experiment handed
/// over, if any, once the rows it covers are written.
/// </summary>
public sealed class RunFolderWriter : IAsyncDisposable
{
    public const string ResultsFileName = "results.jsonl";
    public const string ProgressFileName = "progress.csv";

    /// <summary>The columns every row of <c>progress.csv</c> starts with; the metrics follow, in the order first reported.</summary>
    public const string ProgressHeader = "trial_id,training_iteration,time_total_s,timestamp";

    private readonly Lock _gate = new();

    // One flush at a time: rows are appended, so two flushes must not write the same ones.
    private readonly Lock _flushing = new();
    private List<(string TrialId, TrialResult Result)> _pending = [];
    private List<(string TrialId, TrialResult Result)> _spare = [];
    private long _rowsAppended;
    private long _rowsWritten;
    private JournalWriter? _journal;
    private readonly FileStream _lock;
    private readonly FileStream _results;
    private readonly FileStream _progress;
    private readonly List<string> _columns = [];
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly ArrayBufferWriter<byte> _csv = new(16 * 1024);
    private readonly Utf8JsonWriter _json;
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
    private PendingSnapshot? _snapshot;

    private RunFolderWriter(string directory, TimeSpan flushInterval, TimeProvider time, Durability durability, RowsMark? keep)
    {
        Directory = directory;
        _time = time;
        Durability = durability;
        _experimentInterval = TimeSpan.FromSeconds(1);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "trials"));
        _lock = Lock(directory) ?? throw new IOException($"{directory} is being written by another process (its {LockFileName} is held)");
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = ResultJson.Encoder });
        _results = new FileStream(Path.Combine(directory, ResultsFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 1);
        _results.SetLength(Math.Min(_results.Length, keep?.ResultsBytes ?? 0));
        _results.Seek(0, SeekOrigin.End);
        _progress = new FileStream(Path.Combine(directory, ProgressFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 1);
        if (_results.Length == 0)
        {
            _progress.SetLength(0);
        }
        else if (!KeepProgress(keep!.Value))
        {
            // Restored from a snapshot that does not say where progress.csv stood: made again from the rows it covers.
            RewriteProgress();
        }

        _loop = Task.Run(() => RunAsync(flushInterval));
    }

    /// <summary>
    /// Restored from a snapshot that says where progress.csv stood (its length and column count): the rows after go, in
    /// time that does not depend on how many came before. False when the file's header has changed since (a column
    /// added rewrote it) or is shorter than that.
    /// </summary>
    private bool KeepProgress(RowsMark keep)
    {
        if (keep.ProgressBytes is not { } bytes || keep.ProgressColumns is not { } count || _progress.Length < bytes)
        {
            return false;
        }

        string header;
        using (var reader = new StreamReader(new FileStream(_progress.Name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite), Encoding.UTF8))
        {
            header = reader.ReadLine() ?? string.Empty;
        }

        using var csv = CsvHelper.CsvReader.FromText(header, new CsvHelper.CsvReaderOptions { Separator = ',' });
        csv.ReadHeader();
        var columns = csv.Headers;
        var fixedColumns = ProgressHeader.Split(',').Length;
        if (columns.Count != fixedColumns + count || !header.StartsWith(ProgressHeader, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var column in columns.Skip(fixedColumns))
        {
            _known.Add(column);
            _columns.Add(column);
        }

        _progress.SetLength(bytes);
        _progress.Seek(0, SeekOrigin.End);
        return true;
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

    /// <summary>How far a flush goes: to the operating system, or to the disk.</summary>
    public Durability Durability { get; }

    /// <summary>Results recorded so far (written or not): the count a snapshot taken now covers.</summary>
    public long RowsAppended
    {
        get
        {
            lock (_gate)
            {
                return _rowsAppended;
            }
        }
    }

    public static RunFolderWriter Create(string root, string experimentName, TimeSpan? flushInterval = null, TimeProvider? time = null, Durability durability = Durability.Os)
    {
        var directory = ChooseFolder(root, experimentName);
        try
        {
            return new RunFolderWriter(directory, flushInterval ?? TimeSpan.FromMilliseconds(50), time ?? TimeProvider.System, durability, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create the results folder {directory}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Reopens the folder of an experiment being restored from its journal. The rows after the snapshot's mark
    /// <paramref name="keep"/> (all of them without a snapshot) are removed: the restore records them again from the
    /// journal, which is what counts (after a kill the rows may hold a little more than it does).
    /// </summary>
    public static RunFolderWriter Open(string directory, TimeSpan? flushInterval = null, TimeProvider? time = null, Durability durability = Durability.Os, RowsMark? keep = null) =>
        new(directory, flushInterval ?? TimeSpan.FromMilliseconds(50), time ?? TimeProvider.System, durability, keep);

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

    public void Append(string trialId, TrialResult result)
    {
        lock (_gate)
        {
            _pending.Add((trialId, result));
            _rowsAppended++;
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

    /// <summary>
    /// A snapshot of the experiment, taken when <paramref name="rows"/> results were recorded, to write once those rows
    /// are: <paramref name="write"/> gets where they end in <c>results.jsonl</c> (and in <c>progress.csv</c>, when known),
    /// and writes the file. A newer one replaces one not yet written.
    /// </summary>
    public void QueueSnapshot(long rows, Action<RowsMark> write)
    {
        lock (_gate)
        {
            _snapshot = new PendingSnapshot(rows, write);
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
        // The journal first: the rows below never get ahead of it.
        FlushJournal();
        List<(string TrialId, TrialResult Result)> rows;
        PendingSnapshot? snapshot;
        lock (_gate)
        {
            rows = _pending;
            _pending = _spare;
            _spare = rows;
            snapshot = _snapshot;
            _snapshot = null;
        }

        // A snapshot covering only rows already written is at the files' lengths now; else at its last row in this batch.
        RowsMark? snapshotMark = snapshot is { } s && s.Rows <= _rowsWritten ? new RowsMark(_results.Length, _progress.Length, _columns.Count) : null;
        try
        {
            if (rows.Count > 0)
            {
                var at = WriteRows(rows, snapshotMark is null ? snapshot?.Rows - _rowsWritten : null);
                snapshotMark ??= at;
                _rowsWritten += rows.Count;
            }
        }
        catch
        {
            // What was not written goes back in front, for the next flush to retry.
            lock (_gate)
            {
                rows.AddRange(_pending);
                (_pending, _spare) = (rows, []);
                _snapshot ??= snapshot;
            }

            throw;
        }

        rows.Clear();

        if (snapshot is not null)
        {
            if (snapshotMark is { } mark)
            {
                snapshot.Write(mark);
            }
            else
            {
                lock (_gate)
                {
                    _snapshot ??= snapshot;
                }
            }
        }

        ExperimentDocument? document = null;
        lock (_gate)
        {
            var due = force || _time.GetElapsedTime(_lastDocumentWrite) >= _experimentInterval;
            if (_documentDirty && due)
            {
                // Handed over, not kept: it lists every trial, and the next update brings a new one.
                document = _document;
                _document = null;
                _documentDirty = false;
            }
        }

        if (document is not null)
        {
            // Streamed to the file: its trial rows are copied from the archive, never all in memory at once.
            AtomicFile.Write(Path.Combine(Directory, "experiment.json"), stream => ResultJson.WriteExperiment(stream, document));
            _lastDocumentWrite = _time.GetTimestamp();
        }
    }

    /// <summary>
    /// Appends <paramref name="rows"/> to results.jsonl and progress.csv; returns where the first <paramref name="upTo"/> of
    /// them end, when that is asked (in progress.csv too unless it was rewritten). A metric appearing for the first time
    /// rewrites progress.csv, for its header.
    /// </summary>
    private RowsMark? WriteRows(List<(string TrialId, TrialResult Result)> rows, long? upTo)
    {
        long? lengthAt = null;
        var start = _results.Length;
        _buffer.ResetWrittenCount();
        var newColumns = false;
        for (var i = 0; i < rows.Count; i++)
        {
            var (trialId, result) = rows[i];
            _json.Reset(_buffer);
            ResultJson.WriteResult(_json, trialId, result);
            _json.Flush();
            _buffer.Write("\n"u8);
            if (upTo == i + 1)
            {
                lengthAt = start + _buffer.WrittenCount;
            }

            foreach (var (name, _) in result.Metrics)
            {
                if (_known.Add(name))
                {
                    _columns.Add(name);
                    newColumns = true;
                }
            }
        }

        _results.Write(_buffer.WrittenSpan);
        Sync(_results);
        long? progressAt = null;
        if (newColumns || _progress.Length == 0)
        {
            RewriteProgress();
        }
        else
        {
            var progressStart = _progress.Length;
            _csv.ResetWrittenCount();
            for (var i = 0; i < rows.Count; i++)
            {
                AppendCsv(_csv, rows[i].TrialId, rows[i].Result);
                if (upTo == i + 1)
                {
                    progressAt = progressStart + _csv.WrittenCount;
                }
            }

            _progress.Write(_csv.WrittenSpan);
            Sync(_progress);
        }

        return lengthAt is { } at ? new RowsMark(at, progressAt, progressAt is null ? null : _columns.Count) : null;
    }

    /// <summary>progress.csv made again from results.jsonl, with every metric column known.</summary>
    private void RewriteProgress()
    {
        var rows = ReadAll(Path.Combine(Directory, ResultsFileName));
        foreach (var (_, result) in rows)
        {
            foreach (var (name, _) in result.Metrics)
            {
                if (_known.Add(name))
                {
                    _columns.Add(name);
                }
            }
        }

        var csv = new ArrayBufferWriter<byte>(64 * 1024);
        Utf8(csv, ProgressHeader);
        foreach (var column in _columns)
        {
            csv.Write(","u8);
            Utf8(csv, CsvField(column));
        }

        csv.Write("\n"u8);
        foreach (var (trialId, result) in rows)
        {
            AppendCsv(csv, trialId, result);
        }

        _progress.SetLength(0);
        _progress.Seek(0, SeekOrigin.Begin);
        _progress.Write(csv.WrittenSpan);
        Sync(_progress);
    }

    /// <summary>A row of progress.csv, written as UTF-8 straight into <paramref name="into"/> (no text to encode after).</summary>
    private void AppendCsv(ArrayBufferWriter<byte> into, string trialId, TrialResult result)
    {
        Utf8(into, CsvField(trialId));
        into.Write(","u8);
        Format(into, result.TrainingIteration, null);
        into.Write(","u8);
        Format(into, result.TimeTotalS, "R");
        into.Write(","u8);
        Format(into, result.Timestamp, "R");
        foreach (var column in _columns)
        {
            into.Write(","u8);
            if (result.Metrics.TryGetValue(column, out var v))
            {
                Format(into, v, "R");
            }
        }

        into.Write("\n"u8);
    }

    private static void Utf8(ArrayBufferWriter<byte> into, string text) =>
        into.Advance(Encoding.UTF8.GetBytes(text, into.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length))));

    private static void Format<T>(ArrayBufferWriter<byte> into, T value, string? format)
        where T : IUtf8SpanFormattable
    {
        if (!value.TryFormat(into.GetSpan(64), out var written, format, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"{value} does not fit 64 bytes");
        }

        into.Advance(written);
    }

    private void Sync(FileStream stream)
    {
        if (Durability == Durability.Fsync)
        {
            stream.Flush(flushToDisk: true);
        }
    }

    private static string CsvField(string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;

    /// <summary>Every row of a run's <c>results.jsonl</c> (or any file of result lines), in order; a last line cut short (a crash while it was appended) is left out.</summary>
    public static List<(string TrialId, TrialResult Result)> ReadAll(string path)
    {
        var list = new List<(string, TrialResult)>();
        if (!File.Exists(path))
        {
            return list;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                list.Add((root.TryGetProperty("trial_id", out var id) ? id.GetString() ?? string.Empty : string.Empty, ResultJson.ReadResult(root)));
            }
            catch (JsonException)
            {
                break;
            }
        }

        return list;
    }

    /// <summary>The results a run folder holds, by trial, each trial's in order.</summary>
    public static Dictionary<string, List<TrialResult>> ReadByTrial(string runDirectory)
    {
        var byTrial = new Dictionary<string, List<TrialResult>>(StringComparer.Ordinal);
        foreach (var (trialId, result) in ReadAll(Path.Combine(runDirectory, ResultsFileName)))
        {
            if (!byTrial.TryGetValue(trialId, out var list))
            {
                byTrial[trialId] = list = [];
            }

            list.Add(result);
        }

        return byTrial;
    }

    /// <summary>One trial's results in a run folder, in order.</summary>
    public static List<TrialResult> ReadResults(string runDirectory, string trialId) =>
        ReadByTrial(runDirectory).GetValueOrDefault(trialId) ?? [];

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
    public JournalWriter OpenJournal(string fileName)
    {
        var log = new JournalWriter(Path.Combine(Directory, fileName));
        _journal = log;
        return log;
    }

    /// <summary>The caller's position of what it has written to the journal so far (its last event's).</summary>
    public void MarkJournal(long mark) => Volatile.Write(ref _journalMark, mark);

    /// <summary>The last mark whose lines are known to be written out (they survive the process being killed; with fsync, a power loss).</summary>
    public long DurableMark => Volatile.Read(ref _durableMark);

    /// <summary>Writes out the journal's buffered lines now and returns the mark they reach.</summary>
    public long FlushJournal()
    {
        lock (_journalFlush)
        {
            var mark = Volatile.Read(ref _journalMark);
            if (Durability == Durability.Fsync)
            {
                _journal?.Sync();
            }
            else
            {
                _journal?.Flush();
            }

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
            await _results.DisposeAsync().ConfigureAwait(false);
            await _progress.DisposeAsync().ConfigureAwait(false);
            await _json.DisposeAsync().ConfigureAwait(false);
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

    private sealed record PendingSnapshot(long Rows, Action<RowsMark> Write);
}

/// <summary>
/// Where a run's rows stood at a snapshot: the length of <c>results.jsonl</c>, and of <c>progress.csv</c> with its metric
/// column count when known (null: a restore makes progress.csv again from the rows).
/// </summary>
public readonly record struct RowsMark(long ResultsBytes, long? ProgressBytes = null, int? ProgressColumns = null);

/// <summary>How far the run folder's writes go before they count as done (<c>durability</c> in the spec).</summary>
public enum Durability
{
    /// <summary>Handed to the operating system every flush: they survive the process being killed, not the machine losing power. The default.</summary>
    Os,

    /// <summary>Also written to the disk (fsync) every flush, checkpoints too: they survive a power loss, at the cost measured in the README.</summary>
    Fsync,
}
