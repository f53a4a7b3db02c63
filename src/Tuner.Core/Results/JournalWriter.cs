using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Tuner.Core.Results;

/// <summary>
/// An append-only journal file written a JSON line at a time (<see cref="JournalLine"/>), straight as UTF-8 into a
/// buffered file: one reused JSON writer and buffer, no string per line. Safe to write from any thread. A
/// <see cref="TextWriter"/> too, for callers that write text. <see cref="Flush()"/> hands the buffered lines to the
/// operating system (they survive the process being killed); <see cref="Sync"/> also asks the disk to keep them
/// (they survive the machine losing power).
/// </summary>
public sealed class JournalWriter : TextWriter
{
    private readonly Lock _gate = new();
    private readonly FileStream _file;
    private readonly ArrayBufferWriter<byte> _line = new(512);
    private readonly Utf8JsonWriter _json;

    // Every line's first name, escaped once.
    private static readonly JsonEncodedText EventName = JsonEncodedText.Encode("event", ResultJson.Encoder);

    public JournalWriter(string path)
    {
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024);
        _json = new Utf8JsonWriter(_line, new JsonWriterOptions { Encoder = ResultJson.Encoder });
    }

    public override Encoding Encoding => Encoding.UTF8;

    /// <summary>Bytes written so far, buffered ones included: where the next line starts.</summary>
    public long Length
    {
        get
        {
            lock (_gate)
            {
                return _file.Position;
            }
        }
    }

    /// <summary>One JSON object on a line of its own: <c>{"event": kind, ...body}</c>.</summary>
    public void WriteLine(string kind, Action<Utf8JsonWriter> body)
    {
        lock (_gate)
        {
            _line.ResetWrittenCount();
            _json.Reset(_line);
            _json.WriteStartObject();
            _json.WriteString(EventName, kind);
            body(_json);
            _json.WriteEndObject();
            _json.Flush();
            _file.Write(_line.WrittenSpan);
            _file.WriteByte((byte)'\n');
        }
    }

    public override void Write(char value) => Write(value.ToString());

    public override void Write(string? value)
    {
        if (value is null)
        {
            return;
        }

        lock (_gate)
        {
            _file.Write(Encoding.UTF8.GetBytes(value));
        }
    }

    public override void WriteLine(string? value) => Write(value + "\n");

    public override void Flush()
    {
        lock (_gate)
        {
            _file.Flush(flushToDisk: false);
        }
    }

    /// <summary>Flushes and waits until the disk holds every line (fsync).</summary>
    public void Sync()
    {
        lock (_gate)
        {
            _file.Flush(flushToDisk: true);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_gate)
            {
                _json.Dispose();
                _file.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
