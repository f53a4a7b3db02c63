using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Tuner.Core.Results;

/// <summary>
/// A snapshot of an experiment taken at a journal position, so that a restore reads it and then only the journal's tail after
/// it, in time proportional to the tail rather than to every line ever written. A file <c>snapshots/snapshot-&lt;position&gt;.json</c>
/// in the run folder: a first line (the header: position, the journal's length then, where the tail begins, the length of
/// <c>results.jsonl</c> (and <c>progress.csv</c>) the rows up to it make, and the body's length and SHA-256), then the body
/// (the controller's state: its counters, the open trials' rows and where the ended trials' archive <c>trials.jsonl</c>
/// ended; and the searcher's calls). Written through a temporary file and a rename, the previous one kept; one whose header,
/// length or hash does not match (torn by a crash or a power loss), or whose ended trials the archive no longer holds, is
/// ignored, and the restore falls back to the previous or to the whole journal.
/// </summary>
public static class JournalSnapshot
{
    public const string Folder = "snapshots";

    /// <summary>
    /// The body's shape: 2 since the ended trials' rows are in the archive (<c>trials.jsonl</c>) and the body holds the open ones;
    /// a snapshot of another format is ignored (the restore replays more of the journal).
    /// </summary>
    public const int Format = 2;

    /// <summary>Where a snapshot begins: its journal position, the journal's length then, and where the rows stood (results.jsonl's length, progress.csv's when known).</summary>
    public sealed record Header(long Position, long JournalBytes, RowsMark Rows);

    public static void Write(string runDirectory, Header header, byte[] body, bool fsync)
    {
        var folder = Path.Combine(runDirectory, Folder);
        Directory.CreateDirectory(folder);
        var hash = Convert.ToHexStringLower(SHA256.HashData(body));
        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"format\":2,\"position\":{header.Position},\"journal_bytes\":{header.JournalBytes},\"results_bytes\":{header.Rows.ResultsBytes},{Progress(header.Rows)}\"body_bytes\":{body.Length},\"sha256\":\"{hash}\"}}\n");
        var path = Path.Combine(folder, $"snapshot-{header.Position:D12}.json");
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 64 * 1024))
        {
            stream.Write(Encoding.UTF8.GetBytes(line));
            stream.Write(body);
            stream.Flush(flushToDisk: fsync);
        }

        File.Move(temp, path, overwrite: true);

        // The newest two stay: if the newest turns out torn, the one before it still serves.
        foreach (var old in Files(runDirectory).Skip(2))
        {
            File.Delete(old);
        }
    }

    private static string Progress(RowsMark rows) =>
        rows is { ProgressBytes: { } bytes, ProgressColumns: { } columns }
            ? string.Create(CultureInfo.InvariantCulture, $"\"progress_bytes\":{bytes},\"progress_columns\":{columns},")
            : string.Empty;

    /// <summary>
    /// The newest whole snapshot whose tail the journal (of <paramref name="journalLength"/> bytes) holds, and whose ended trials
    /// the archive (of <paramref name="archiveLength"/> bytes) holds, with its body; null when there is none (a restore then
    /// replays the whole journal).
    /// </summary>
    public static (Header Header, JsonDocument Body)? Newest(string runDirectory, long journalLength, long archiveLength)
    {
        foreach (var path in Files(runDirectory))
        {
            if (TryRead(path) is { } snapshot)
            {
                if (snapshot.Header.JournalBytes <= journalLength && ArchivedBytes(snapshot.Body) <= archiveLength)
                {
                    return snapshot;
                }

                snapshot.Body.Dispose();
            }
        }

        return null;
    }

    /// <summary>The length of the ended trials' archive a snapshot's body covers.</summary>
    public static long ArchivedBytes(JsonDocument body) => body.RootElement.GetProperty("controller").GetProperty("archived_bytes").GetInt64();

    /// <summary>The snapshot in <paramref name="path"/>, or null when it is not whole (torn, cut short, altered).</summary>
    public static (Header Header, JsonDocument Body)? TryRead(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            var newline = Array.IndexOf(bytes, (byte)'\n');
            if (newline < 0)
            {
                return null;
            }

            using var header = JsonDocument.Parse(bytes.AsMemory(0, newline));
            var h = header.RootElement;
            var body = bytes.AsMemory(newline + 1);
            if (h.GetProperty("format").GetInt32() != Format
                || h.GetProperty("body_bytes").GetInt64() != body.Length
                || h.GetProperty("sha256").GetString() != Convert.ToHexStringLower(SHA256.HashData(body.Span)))
            {
                return null;
            }

            var rows = new RowsMark(
                h.GetProperty("results_bytes").GetInt64(),
                h.TryGetProperty("progress_bytes", out var progress) ? progress.GetInt64() : null,
                h.TryGetProperty("progress_columns", out var columns) ? columns.GetInt32() : null);
            return (new Header(h.GetProperty("position").GetInt64(), h.GetProperty("journal_bytes").GetInt64(), rows), JsonDocument.Parse(body));
        }
        catch (Exception ex) when (ex is JsonException or IOException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The snapshots in the folder, newest first.</summary>
    public static IEnumerable<string> Files(string runDirectory)
    {
        var folder = Path.Combine(runDirectory, Folder);
        return Directory.Exists(folder)
            ? Directory.GetFiles(folder, "snapshot-*.json").Order(StringComparer.Ordinal).Reverse().ToList()
            : [];
    }
}
