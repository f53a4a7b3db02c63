using Microsoft.Win32.SafeHandles;

namespace Tuner.Core.Experiments.Control;

/// <summary>
/// Where ended trials go: their rows (one JSON line each, <see cref="TrialRowJson"/>), appended and read back by offset, so
/// that what the trial table keeps in memory of a finished trial is a fixed slot (<see cref="TrialTable"/>), not the trial. In a
/// run folder, the file <c>trials.jsonl</c> (<see cref="TrialArchiveFile"/>); without one, a buffer in memory
/// (<see cref="MemoryTrialArchive"/>). Appended by the experiment's thread alone; bytes a <see cref="Seal"/> covered can be read
/// from any thread (they never change).
/// </summary>
public abstract class TrialArchive : IDisposable
{
    /// <summary>The bytes appended so far.</summary>
    public abstract long Length { get; }

    /// <summary>Appends a row (without its line end); returns the offset it starts at.</summary>
    public abstract long Append(ReadOnlySpan<byte> row);

    /// <summary>Reads <paramref name="into"/>'s length of bytes at <paramref name="offset"/>.</summary>
    public abstract void Read(long offset, Span<byte> into);

    /// <summary>Makes every byte appended so far readable from other threads (and, with <paramref name="toDisk"/>, durable); returns <see cref="Length"/>.</summary>
    public abstract long Seal(bool toDisk);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>An archive in memory, for a controller without a run folder (tests, an experiment only read): one buffer that grows by copies, the old ones left whole for readers.</summary>
public sealed class MemoryTrialArchive : TrialArchive
{
    private byte[] _bytes = new byte[4096];
    private long _length;

    /// <summary>A copy of the first <paramref name="length"/> bytes of a folder's archive (an experiment only read: nothing is written there).</summary>
    public static MemoryTrialArchive CopyOf(string directory, long length)
    {
        var archive = new MemoryTrialArchive();
        if (length > 0)
        {
            using var handle = File.OpenHandle(Path.Combine(directory, TrialArchiveFile.FileName));
            archive._bytes = new byte[length];
            archive._length = RandomAccess.Read(handle, archive._bytes, 0);
        }

        return archive;
    }

    public override long Length => _length;

    public override long Append(ReadOnlySpan<byte> row)
    {
        var offset = _length;
        var needed = offset + row.Length + 1;
        if (needed > _bytes.Length)
        {
            // A new buffer: one a reader already holds keeps every byte it was sealed with.
            var grown = new byte[Math.Max(needed, _bytes.Length * 2L)];
            _bytes.AsSpan(0, (int)offset).CopyTo(grown);
            Volatile.Write(ref _bytes, grown);
        }

        row.CopyTo(_bytes.AsSpan((int)offset));
        _bytes[offset + row.Length] = (byte)'\n';
        _length = needed;
        return offset;
    }

    public override void Read(long offset, Span<byte> into) => Volatile.Read(ref _bytes).AsSpan((int)offset, into.Length).CopyTo(into);

    public override long Seal(bool toDisk)
    {
        Interlocked.MemoryBarrier();
        return _length;
    }
}

/// <summary>
/// The run folder's <c>trials.jsonl</c>: ended trials' rows, appended through a buffer and read back with positioned reads
/// (safe from any thread). Rebuilt by a restore like the rows of <c>results.jsonl</c>: cut to what its snapshot covers, the rest
/// made again from the journal's tail.
/// </summary>
public sealed class TrialArchiveFile : TrialArchive
{
    public const string FileName = "trials.jsonl";

    private readonly SafeFileHandle _handle;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _buffered;
    private long _written;

    private TrialArchiveFile(SafeFileHandle handle, long length)
    {
        _handle = handle;
        _written = length;
    }

    /// <summary>Opens the folder's archive, cut to its first <paramref name="keep"/> bytes (a new experiment, or a restore without a snapshot: 0).</summary>
    public static TrialArchiveFile Open(string directory, long keep)
    {
        var handle = File.OpenHandle(Path.Combine(directory, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var length = Math.Min(RandomAccess.GetLength(handle), keep);
        RandomAccess.SetLength(handle, length);
        return new TrialArchiveFile(handle, length);
    }

    /// <summary>The length of a folder's archive (0 when it has none).</summary>
    public static long LengthIn(string directory) =>
        File.Exists(Path.Combine(directory, FileName)) ? new FileInfo(Path.Combine(directory, FileName)).Length : 0;

    public override long Length => _written + _buffered;

    public override long Append(ReadOnlySpan<byte> row)
    {
        var offset = Length;
        if (_buffered + row.Length + 1 > _buffer.Length)
        {
            WriteBuffer();
        }

        if (row.Length + 1 > _buffer.Length)
        {
            RandomAccess.Write(_handle, row, _written);
            RandomAccess.Write(_handle, "\n"u8, _written + row.Length);
            _written += row.Length + 1;
            return offset;
        }

        row.CopyTo(_buffer.AsSpan(_buffered));
        _buffer[_buffered + row.Length] = (byte)'\n';
        _buffered += row.Length + 1;
        return offset;
    }

    public override void Read(long offset, Span<byte> into)
    {
        if (offset + into.Length > Volatile.Read(ref _written))
        {
            // Still in the buffer (the experiment's own thread: others read only what a seal covered).
            WriteBuffer();
        }

        for (var read = 0; read < into.Length;)
        {
            var n = RandomAccess.Read(_handle, into[read..], offset + read);
            if (n == 0)
            {
                throw new EndOfStreamException($"{FileName} ends before the row at byte {offset}");
            }

            read += n;
        }
    }

    public override long Seal(bool toDisk)
    {
        WriteBuffer();
        if (toDisk)
        {
            RandomAccess.FlushToDisk(_handle);
        }

        return _written;
    }

    private void WriteBuffer()
    {
        if (_buffered > 0)
        {
            RandomAccess.Write(_handle, _buffer.AsSpan(0, _buffered), _written);
            Volatile.Write(ref _written, _written + _buffered);
            _buffered = 0;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_handle.IsClosed)
        {
            WriteBuffer();
            _handle.Dispose();
        }

        base.Dispose(disposing);
    }
}
