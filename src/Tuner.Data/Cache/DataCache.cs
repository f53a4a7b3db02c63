using System.IO.Compression;
using System.Security.Cryptography;

namespace Tuner.Data.Cache;

/// <summary>
/// The folder data sets are kept in. A file already there is verified and used as it is (the folder
/// may be read-only); a missing one is downloaded from its public address into a temporary file,
/// verified, then renamed into place. Offline, the error says what to put where.
/// </summary>
public sealed class DataCache
{
    /// <summary>The environment variable that chooses the cache folder.</summary>
    public const string EnvironmentVariable = "TUNER_DATA_DIR";

    private readonly HttpClient _http;

    public DataCache(string directory, HttpClient? http = null)
    {
        Directory = Path.GetFullPath(directory);
        _http = http ?? SharedHttp;
    }

    private static HttpClient SharedHttp { get; } = new() { Timeout = TimeSpan.FromMinutes(10) };

    public string Directory { get; }

    /// <summary>
    /// The cache named by <paramref name="directory"/>, else by <c>TUNER_DATA_DIR</c>, else
    /// <c>$XDG_CACHE_HOME/tuner/data</c> (by default <c>~/.cache/tuner/data</c>).
    /// </summary>
    public static DataCache Resolve(string? directory = null, HttpClient? http = null)
    {
        var chosen = directory
            ?? Environment.GetEnvironmentVariable(EnvironmentVariable)
            ?? Path.Combine(
                Environment.GetEnvironmentVariable("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
                "tuner",
                "data");
        return new DataCache(chosen, http);
    }

    /// <summary>The verified local path of <paramref name="file"/>, downloading it first when it is missing.</summary>
    public async Task<string> GetAsync(DataFile file, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(Directory, file.RelativePath);
        if (File.Exists(path))
        {
            await VerifyAsync(file, path, cancellationToken).ConfigureAwait(false);
            return path;
        }

        await DownloadAsync(file, path, cancellationToken).ConfigureAwait(false);
        return path;
    }

    /// <summary>Checks a file against its checksum; a mismatch names the file and what to do.</summary>
    public static async Task VerifyAsync(DataFile file, string path, CancellationToken cancellationToken = default)
    {
        if (file.Kind == ChecksumKind.Contents)
        {
            return;
        }

        var actual = await DigestAsync(file.Kind, path, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(actual, file.Checksum, StringComparison.OrdinalIgnoreCase))
        {
            throw new DataUnavailableException(
                $"{path} is damaged: its {file.Kind.ToString().ToUpperInvariant()} is {actual}, expected {file.Checksum}. Delete it to download it again from {file.Url}.");
        }
    }

    /// <summary>
    /// The verified local paths of files published inside one archive: those missing are extracted
    /// from the archive at <paramref name="archive"/>, found by the end of their entry names.
    /// </summary>
    public async Task<IReadOnlyList<string>> GetFromArchiveAsync(Uri archive, IReadOnlyList<DataFile> members, CancellationToken cancellationToken = default)
    {
        var paths = members.Select(m => Path.Combine(Directory, m.RelativePath)).ToList();
        if (paths.All(File.Exists))
        {
            for (var i = 0; i < members.Count; i++)
            {
                await VerifyAsync(members[i], paths[i], cancellationToken).ConfigureAwait(false);
            }

            return paths;
        }

        var zip = Path.Combine(Directory, $"download-{Environment.ProcessId}.zip");
        try
        {
            await DownloadAsync(archive, zip, members[0].RelativePath, cancellationToken).ConfigureAwait(false);
            using var archiveFile = ZipFile.OpenRead(zip);
            for (var i = 0; i < members.Count; i++)
            {
                var name = Path.GetFileName(members[i].RelativePath);
                var entry = archiveFile.Entries.FirstOrDefault(e => e.FullName.EndsWith("/" + name, StringComparison.Ordinal) || e.FullName == name)
                    ?? throw new DataUnavailableException($"{archive} has no {name}; it holds: {string.Join(", ", archiveFile.Entries.Select(e => e.FullName).Take(10))}");
                var temp = $"{paths[i]}.{Environment.ProcessId}.download";
                System.IO.Directory.CreateDirectory(Path.GetDirectoryName(paths[i])!);
                entry.ExtractToFile(temp, overwrite: true);
                try
                {
                    await VerifyAsync(members[i], temp, cancellationToken).ConfigureAwait(false);
                    File.Move(temp, paths[i], overwrite: true);
                }
                finally
                {
                    File.Delete(temp);
                }
            }

            return paths;
        }
        finally
        {
            File.Delete(zip);
        }
    }

    private async Task DownloadAsync(DataFile file, string path, CancellationToken cancellationToken)
    {
        var temp = $"{path}.{Environment.ProcessId}.download";
        try
        {
            await DownloadAsync(file.Url, temp, file.RelativePath, cancellationToken).ConfigureAwait(false);
            await VerifyAsync(file, temp, cancellationToken).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Downloads <paramref name="url"/> to <paramref name="target"/>; offline, says what to put where.</summary>
    private async Task DownloadAsync(Uri url, string target, string wanted, CancellationToken cancellationToken)
    {
        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            await using var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using var stream = File.Create(target);
            await source.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or UnauthorizedAccessException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new DataUnavailableException(
                $"{wanted} is not in the data cache {Directory} and could not be downloaded from {url}: {ex.Message}. "
                + $"Without internet, copy it to {Path.Combine(Directory, wanted)}, or point {EnvironmentVariable} (or --data-dir) at a folder that has it.",
                ex);
        }
    }

    private static async Task<string> DigestAsync(ChecksumKind kind, string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        var hash = kind switch
        {
            ChecksumKind.Sha256 => await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false),
#pragma warning disable CA5351 // MD5 is what the data set's publisher lists; it checks integrity, not authenticity.
            _ => await MD5.HashDataAsync(stream, cancellationToken).ConfigureAwait(false),
#pragma warning restore CA5351
        };
        return Convert.ToHexStringLower(hash);
    }
}
