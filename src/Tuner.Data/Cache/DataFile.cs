namespace Tuner.Data.Cache;

/// <summary>How a file's content is checked.</summary>
public enum ChecksumKind
{
    Sha256,
    Md5,

    /// <summary>No checksum is published for the file (or copies differ byte-wise); its loader checks what it holds.</summary>
    Contents,
}

/// <summary>A file of a data set: where it lives in the cache, where it comes from, and its checksum.</summary>
/// <param name="RelativePath">The path inside the cache folder, e.g. <c>gestures-dataset.zip</c>.</param>
/// <param name="Url">The public address it is downloaded from.</param>
/// <param name="Checksum">The expected hex digest, lower case.</param>
public sealed record DataFile(string RelativePath, Uri Url, ChecksumKind Kind, string Checksum);
