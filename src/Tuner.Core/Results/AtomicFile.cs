namespace Tuner.Core.Results;

/// <summary>Writes a file through a temporary file and a rename, so a reader or a crash never sees half of it.</summary>
public static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1))
        {
            stream.Write(content);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The file as <paramref name="write"/> writes it to a stream (buffered: a large file needs no buffer its size).</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 64 * 1024))
        {
            write(stream);
        }

        File.Move(temp, path, overwrite: true);
    }

    public static void Write(string path, string content) => Write(path, System.Text.Encoding.UTF8.GetBytes(content));
}
