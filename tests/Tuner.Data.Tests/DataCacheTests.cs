using System.IO.Compression;
using Tuner.Data.Cache;
using Tuner.Data.Datasets;

namespace Tuner.Data.Tests;

public sealed class DataCacheTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), $"tuner-data-{Guid.NewGuid():N}");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (Directory.Exists(_cache))
        {
            Directory.Delete(_cache, recursive: true);
        }
    }

    [Fact]
    public async Task AMissingFile_IsDownloadedOnce_VerifiedAndKept()
    {
        using var server = new LoopbackServer();
        var url = server.Add("gestures-dataset.zip", await File.ReadAllBytesAsync(await SharedData.Cache.GetAsync(GesturesDataset.File, Ct), Ct));
        var cache = new DataCache(_cache);
        var file = GesturesDataset.File with { Url = url };

        var first = await cache.GetAsync(file, Ct);
        var second = await cache.GetAsync(file, Ct);

        Assert.Equal(Path.Combine(_cache, "gestures-dataset.zip"), first);
        Assert.Equal(first, second);
        Assert.Equal(1, server.Requests);
        Assert.Single(Directory.GetFiles(_cache));
    }

    [Fact]
    public async Task ADownloadWithTheWrongChecksum_IsRefusedAndNotKept()
    {
        using var server = new LoopbackServer();
        var url = server.Add("gestures-dataset.zip", "not the data set"u8.ToArray());
        var cache = new DataCache(_cache);

        var ex = await Assert.ThrowsAsync<DataUnavailableException>(() => cache.GetAsync(GesturesDataset.File with { Url = url }, Ct));

        Assert.Contains("is damaged", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_cache));
    }

    [Fact]
    public async Task Offline_TheErrorSaysWhereToPutTheFile()
    {
        var cache = new DataCache(_cache);
        var unreachable = GesturesDataset.File with { Url = new Uri("http://127.0.0.1:1/gestures-dataset.zip") };

        var ex = await Assert.ThrowsAsync<DataUnavailableException>(() => cache.GetAsync(unreachable, Ct));

        Assert.Contains("could not be downloaded from http://127.0.0.1:1/gestures-dataset.zip", ex.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_cache, "gestures-dataset.zip"), ex.Message, StringComparison.Ordinal);
        Assert.Contains(DataCache.EnvironmentVariable, ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(_cache) ? Directory.GetFiles(_cache) : []);
    }

    [Fact]
    public async Task ADamagedFileInTheCache_IsReportedNotUsed()
    {
        Directory.CreateDirectory(_cache);
        await File.WriteAllTextAsync(Path.Combine(_cache, "gestures-dataset.zip"), "truncated", Ct);

        var ex = await Assert.ThrowsAsync<DataUnavailableException>(() => new DataCache(_cache).GetAsync(GesturesDataset.File, Ct));

        Assert.Contains("Delete it to download it again", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FilesPublishedInAnArchive_AreExtractedAndVerified()
    {
        var sources = await SharedData.Cache.GetFromArchiveAsync(SentimentDataset.Archive, SentimentDataset.Files, Ct);
        using var archive = new MemoryStream();
        using (var zip = new ZipArchive(archive, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var source in sources)
            {
                // The published zip's folder name has spaces; members are found by file name.
                zip.CreateEntryFromFile(source, $"sentiment labelled sentences/{Path.GetFileName(source)}");
            }
        }

        using var server = new LoopbackServer();
        var url = server.Add("sentiment.zip", archive.ToArray());
        var cache = new DataCache(_cache);

        var paths = await cache.GetFromArchiveAsync(url, SentimentDataset.Files, Ct);
        await cache.GetFromArchiveAsync(url, SentimentDataset.Files, Ct);

        Assert.Equal(3, paths.Count);
        Assert.All(paths, p => Assert.True(File.Exists(p)));
        Assert.Equal(1, server.Requests);
        Assert.Empty(Directory.GetFiles(_cache, "*.zip"));
    }

    [Fact]
    public void Resolve_PrefersTheOptionThenTheEnvironment()
    {
        Assert.Equal(Path.GetFullPath("/tmp/chosen"), DataCache.Resolve("/tmp/chosen").Directory);
        Assert.EndsWith(Path.Combine("tuner", "data"), DataCache.Resolve(Environment.GetEnvironmentVariable(DataCache.EnvironmentVariable) is null ? null : "/x/tuner/data").Directory, StringComparison.Ordinal);
    }
}
