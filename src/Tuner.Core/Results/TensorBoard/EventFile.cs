using System.Buffers.Binary;
using System.Numerics;
using Google.Protobuf;
using Tuner.Core.Results.TensorBoard.Protos;

namespace Tuner.Core.Results.TensorBoard;

/// <summary>
/// TensorFlow's record framing of event files: each record is <c>uint64 length</c> (little-endian),
/// <c>uint32 masked CRC-32C of the length</c>, the data, <c>uint32 masked CRC-32C of the data</c>.
/// </summary>
public static class EventFile
{
    /// <summary>The file name TensorBoard looks for: <c>events.out.tfevents.&lt;seconds&gt;.&lt;host&gt;</c> (a suffix keeps two of one second apart).</summary>
    public static string FileName(DateTimeOffset created, string suffix = "") =>
        $"events.out.tfevents.{created.ToUnixTimeSeconds()}.{MachineName}{suffix}";

    // Asked once: the host's name is a system call each time.
    private static readonly string MachineName = Environment.MachineName;

    /// <summary>CRC-32C (Castagnoli) of <paramref name="data"/>.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        var i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        for (; i < data.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, data[i]);
        }

        return ~crc;
    }

    /// <summary>The masked CRC TensorFlow stores (a CRC of data that holds CRCs is weak otherwise).</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        var crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    /// <summary>Writes one record.</summary>
    public static void WriteRecord(Stream stream, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(data));
        stream.Write(header);
        stream.Write(data);
        stream.Write(footer);
    }

    /// <summary>
    /// Reads every record of an event file, checking both CRCs of each. A record cut short at the end (a
    /// writer killed mid-record) ends the file; a CRC that does not match is an error naming the record.
    /// </summary>
    public static IEnumerable<Event> Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var header = new byte[12];
        var footer = new byte[4];
        for (var index = 0; ; index++)
        {
            if (stream.ReadAtLeast(header, 12, throwOnEndOfStream: false) < 12)
            {
                yield break;
            }

            var length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8)) != MaskedCrc(header.AsSpan(0, 8)))
            {
                throw new InvalidDataException($"{path}: record {index}: the length's CRC does not match");
            }

            if (length > int.MaxValue)
            {
                throw new InvalidDataException($"{path}: record {index}: a length of {length} bytes");
            }

            var data = new byte[(int)length];
            if (stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false) < data.Length || stream.ReadAtLeast(footer, 4, throwOnEndOfStream: false) < 4)
            {
                yield break;
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(footer) != MaskedCrc(data))
            {
                throw new InvalidDataException($"{path}: record {index}: the data's CRC does not match");
            }

            yield return Event.Parser.ParseFrom(data);
        }
    }
}
