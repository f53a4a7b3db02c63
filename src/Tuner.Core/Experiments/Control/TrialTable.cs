using System.Buffers;
using System.Collections;
using System.Text.Json;
using Tuner.Core.Spec;

namespace Tuner.Core.Experiments.Control;

/// <summary>
/// The experiment's trial table, in memory as far as what runs: an open trial is a <see cref="TrialRecord"/>; an ended one is
/// written to the <see cref="TrialArchive"/> and leaves memory, keeping a fixed slot (where its row is, its state and its last
/// value of the metric), so that memory grows by that slot per finished trial however long the run (Ray's driver grows by the
/// whole trial, ray-project/ray#64231). Reading an ended trial reads its row back. Used by the controller's thread alone;
/// a <see cref="View"/> of it can be written out on another.
/// </summary>
public sealed class TrialTable : IReadOnlyList<TrialRecord>
{
    private readonly Dictionary<string, TrialRecord> _live = new(StringComparer.Ordinal);
    private readonly string _metric;

    // Slot i is trial i + 1's. Replaced, never changed, where a view could be reading it (a trial reopened); grown by copies.
    private Slot[] _slots = new Slot[64];

    // One row at a time is written (the controller's thread): the buffer is kept for the next.
    private readonly ArrayBufferWriter<byte> _row = new(512);
    private static readonly JsonWriterOptions RowOptions = new() { Encoder = Results.ResultJson.Encoder };

    public TrialTable(TrialArchive archive, string metric)
    {
        Archive = archive;
        _metric = metric;
    }

    public TrialArchive Archive { get; }

    /// <summary>Every trial ever created.</summary>
    public int Count { get; private set; }

    /// <summary>Trials in memory: open ones, and one just ended until it is archived.</summary>
    public int LiveCount => _live.Count;

    /// <summary>Trial <c>t00042</c>'s index (42), or 0 for an id that is not a trial's.</summary>
    public static int IndexOf(string trialId) =>
        trialId.Length > 1 && trialId[0] == 't' && int.TryParse(trialId.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index) ? index : 0;

    /// <summary>Whether the table has the trial (in memory or archived).</summary>
    public bool Contains(string trialId) => IndexIn(trialId) > 0;

    /// <summary>The trial's index if the table has it, else 0.</summary>
    private int IndexIn(string trialId) => IndexOf(trialId) is var index and > 0 && index <= Count ? index : 0;

    /// <summary>Trial <paramref name="index"/>'s id: <c>t00001</c>, ..., <c>t99999</c>, <c>t100000</c>.</summary>
    public static string IdOf(int index) => $"t{index:D5}";

    /// <summary>A new trial, open.</summary>
    public void Add(TrialRecord trial)
    {
        if (trial.Index != Count + 1)
        {
            throw new InvalidOperationException($"trial {trial.TrialId} is not the next one (the table has {Count})");
        }

        if (Count == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
        }

        _slots[Count] = Slot.Live;
        _live.Add(trial.TrialId, trial);
        Count++;
    }

    /// <summary>The trial if it is in memory (open, or ended and not yet archived).</summary>
    public bool TryGetLive(string trialId, out TrialRecord trial) => _live.TryGetValue(trialId, out trial!);

    /// <summary>The trial: in memory, or read back from the archive (a copy; changing it changes nothing).</summary>
    public bool TryGet(string trialId, out TrialRecord trial)
    {
        if (_live.TryGetValue(trialId, out trial!))
        {
            return true;
        }

        var index = IndexIn(trialId);
        if (index == 0)
        {
            return false;
        }

        trial = Load(_slots[index - 1]);
        return true;
    }

    /// <summary>The trial back in memory to be changed (an ended one that an event reopens or amends); null for an unknown id.</summary>
    public TrialRecord? Reopen(string trialId)
    {
        if (_live.TryGetValue(trialId, out var trial))
        {
            return trial;
        }

        var index = IndexIn(trialId);
        if (index == 0)
        {
            return null;
        }

        trial = Load(_slots[index - 1]);

        // A view taken before may be reading this slot: the array is copied rather than changed under it.
        _slots = (Slot[])_slots.Clone();
        _slots[index - 1] = Slot.Live;
        _live.Add(trialId, trial);
        return trial;
    }

    /// <summary>An ended trial in memory goes to the archive and leaves memory; an open one stays.</summary>
    public void Settle(TrialRecord trial)
    {
        if (!trial.Status.IsFinal() || !_live.Remove(trial.TrialId))
        {
            return;
        }

        var row = Row(trial, withCurve: false);
        var offset = Archive.Append(row);
        _slots[trial.Index - 1] = new Slot(offset, row.Length, trial.Status, trial.LastMetric ?? double.NaN);
    }

    /// <summary>The trial's row (<see cref="TrialRowJson"/>), valid until the next row is made.</summary>
    private ReadOnlySpan<byte> Row(TrialRecord trial, bool withCurve)
    {
        _row.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(_row, RowOptions))
        {
            TrialRowJson.Write(w, trial, _metric, withCurve);
        }

        return _row.WrittenSpan;
    }

    /// <summary>A trial read from the archive (a restore): ended, in its slot; a later row of the same trial replaces an earlier one.</summary>
    public void Restore(TrialRecord trial, long offset, int length)
    {
        Reach(trial.Index);

        _live.Remove(trial.TrialId);
        _slots[trial.Index - 1] = new Slot(offset, length, trial.Status, trial.LastMetric ?? double.NaN);
    }

    /// <summary>A trial in memory as a restore found it (a snapshot's open row), in place of any archived row of it.</summary>
    public void RestoreLive(TrialRecord trial)
    {
        Reach(trial.Index);

        _slots[trial.Index - 1] = Slot.Live;
        _live[trial.TrialId] = trial;
    }

    /// <summary>Slots up to trial <paramref name="index"/>, those not yet filled marked missing (a restore fills them).</summary>
    private void Reach(int index)
    {
        while (Count < index)
        {
            if (Count == _slots.Length)
            {
                Array.Resize(ref _slots, Math.Max(_slots.Length * 2, index));
            }

            _slots[Count++] = Slot.Missing;
        }
    }

    /// <summary>Every trial's state (a restore counts them): the archived ones' from their slots.</summary>
    public IEnumerable<TrialStatus> Statuses()
    {
        for (var i = 0; i < Count; i++)
        {
            var slot = _slots[i];
            if (slot.IsLive)
            {
                yield return _live[IdOf(i + 1)].Status;
            }
            else if (!slot.IsMissing)
            {
                yield return slot.Status;
            }
        }
    }

    /// <summary>Whether every trial up to <see cref="Count"/> is known (a restore's archive and open rows left none out).</summary>
    public int? FirstMissing()
    {
        for (var i = 0; i < Count; i++)
        {
            if (_slots[i].IsMissing)
            {
                return i + 1;
            }
        }

        return null;
    }

    /// <summary>The index of the trial with the best last value of the metric (the first of equals), or 0 when none has one; <paramref name="excluded"/> (by index) are passed over.</summary>
    public int BestIndex(ExperimentSpec spec, IReadOnlySet<int>? excluded = null)
    {
        var best = 0;
        var bestValue = double.NaN;
        for (var i = 0; i < Count; i++)
        {
            if (excluded?.Contains(i + 1) == true)
            {
                continue;
            }

            var slot = _slots[i];
            var value = slot.IsLive ? _live[IdOf(i + 1)].LastMetric ?? double.NaN : slot.Metric;
            if (!double.IsNaN(value) && (best == 0 || spec.IsBetter(value, bestValue)))
            {
                best = i + 1;
                bestValue = value;
            }
        }

        return best;
    }

    /// <summary>The last values of the metric the archived trials ended with (their gauges after a restore).</summary>
    public IEnumerable<double> EndedMetrics()
    {
        for (var i = 0; i < Count; i++)
        {
            if (_slots[i] is { IsLive: false, IsMissing: false, Metric: var value } && !double.IsNaN(value))
            {
                yield return value;
            }
        }
    }

    /// <summary>The archived trials, newest first, read back one at a time.</summary>
    public IEnumerable<TrialRecord> NewestEnded()
    {
        for (var i = Count - 1; i >= 0; i--)
        {
            if (_slots[i] is { IsLive: false, IsMissing: false } slot)
            {
                yield return Load(slot);
            }
        }
    }

    /// <summary>Trial <paramref name="index"/> + 1 (in memory, or a copy read back).</summary>
    public TrialRecord this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return _slots[index].IsLive ? _live[IdOf(index + 1)] : Load(_slots[index]);
        }
    }

    public IEnumerator<TrialRecord> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// The table as it is now, to write out on another thread: the trials in memory as rows written now (few), the archived
    /// ones where the archive has them (sealed, so readable from there), the slots as they are (never changed under a view).
    /// </summary>
    public View Capture(bool withCurves, bool toDisk = false)
    {
        var rows = new Dictionary<int, byte[]>(_live.Count);
        foreach (var trial in _live.Values)
        {
            rows.Add(trial.Index, Row(trial, withCurves).ToArray());
        }

        return new View(Count, _slots, rows, Archive, Archive.Seal(toDisk));
    }

    private TrialRecord Load(Slot slot)
    {
        if (slot.IsMissing)
        {
            throw new InvalidDataException("the trial table has a trial that neither its archive nor its snapshot holds");
        }

        var bytes = ArrayPool<byte>.Shared.Rent(slot.Length);
        try
        {
            Archive.Read(slot.Offset, bytes.AsSpan(0, slot.Length));
            return TrialRowJson.Read(bytes.AsSpan(0, slot.Length), _metric);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>
    /// Reads an archive's rows up to <paramref name="length"/> (a restore): each trial with where its row is. A row cut short
    /// or unreadable ends the reading.
    /// </summary>
    public static IEnumerable<(TrialRecord Trial, long Offset, int Length)> ReadArchive(TrialArchive archive, long length, string metric)
    {
        var chunk = new byte[1 << 20];
        long start = 0;
        while (start < length)
        {
            var count = (int)Math.Min(chunk.Length, length - start);
            archive.Read(start, chunk.AsSpan(0, count));
            var consumed = 0;
            while (Array.IndexOf(chunk, (byte)'\n', consumed, count - consumed) is var end and >= 0)
            {
                yield return (TrialRowJson.Read(chunk.AsSpan(consumed, end - consumed), metric), start + consumed, end - consumed);
                consumed = end + 1;
            }

            if (consumed == 0)
            {
                if (count == chunk.Length)
                {
                    // A row longer than the chunk: read it whole.
                    chunk = new byte[chunk.Length * 2];
                    continue;
                }

                yield break;
            }

            start += consumed;
        }
    }

    /// <summary>Where a trial is: in memory (<see cref="Live"/>), or archived at an offset with its state and metric.</summary>
    internal readonly record struct Slot(long Offset, int Length, TrialStatus Status, double Metric)
    {
        public static readonly Slot Live = new(-1, 0, TrialStatus.Pending, double.NaN);

        public static readonly Slot Missing = new(-2, 0, TrialStatus.Pending, double.NaN);

        public bool IsLive => Offset == -1;

        public bool IsMissing => Offset == -2;
    }

    /// <summary>The table at a moment, written out as rows in the order trials were created (<see cref="WriteRows"/>).</summary>
    public sealed class View
    {
        private readonly Slot[] _slots;
        private readonly Dictionary<int, byte[]> _rows;
        private readonly TrialArchive _archive;

        internal View(int count, Slot[] slots, Dictionary<int, byte[]> rows, TrialArchive archive, long archived)
        {
            Count = count;
            _slots = slots;
            _rows = rows;
            _archive = archive;
            ArchivedBytes = archived;
        }

        /// <summary>Trials in the view.</summary>
        public int Count { get; }

        /// <summary>The archive's length when the view was taken: a restore reads it up to there.</summary>
        public long ArchivedBytes { get; }

        /// <summary>The rows of the trials in memory then (open ones), by index.</summary>
        public IReadOnlyDictionary<int, byte[]> LiveRows => _rows;

        /// <summary>
        /// Every trial's row, as a JSON array with a row a line (each line after the first starting with <paramref name="indent"/>
        /// and two spaces), written to <paramref name="stream"/> as it is read: no buffer the size of the table.
        /// </summary>
        public void WriteRows(Stream stream, string indent = "")
        {
            var lineStart = System.Text.Encoding.UTF8.GetBytes($",\n{indent}  ");

            // Trials end about in the order they were created, so their rows are read a window of the archive at a time.
            var window = new byte[64 * 1024];
            long windowStart = 0;
            var windowLength = 0;
            stream.Write("["u8);
            var written = 0;
            for (var i = 0; i < Count; i++)
            {
                ReadOnlySpan<byte> row;
                if (_rows.TryGetValue(i + 1, out var live))
                {
                    row = live;
                }
                else if (_slots[i] is { IsLive: false, IsMissing: false } slot)
                {
                    if (slot.Offset < windowStart || slot.Offset + slot.Length > windowStart + windowLength)
                    {
                        if (slot.Length > window.Length)
                        {
                            window = new byte[slot.Length];
                        }

                        windowStart = slot.Offset;
                        windowLength = (int)Math.Min(window.Length, ArchivedBytes - slot.Offset);
                        _archive.Read(windowStart, window.AsSpan(0, windowLength));
                    }

                    row = window.AsSpan((int)(slot.Offset - windowStart), slot.Length);
                }
                else
                {
                    continue;
                }

                stream.Write(written++ == 0 ? lineStart.AsSpan(1) : lineStart);
                stream.Write(row);
            }

            if (written > 0)
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes($"\n{indent}"));
            }

            stream.Write("]"u8);
        }

        /// <summary>Only the rows of the trials in memory then (a snapshot's: the archived ones are in the archive up to <see cref="ArchivedBytes"/>).</summary>
        public void WriteLiveRows(Utf8JsonWriter w)
        {
            foreach (var (_, row) in _rows.OrderBy(r => r.Key))
            {
                w.WriteRawValue(row, skipInputValidation: true);
            }
        }
    }
}
