using System.IO.Compression;
using Tuner.Data.Cache;
using Tuner.Data.Images;

namespace Tuner.Data.Datasets;

/// <summary>A photo with its class (0 ants, 1 bees) and the split its publisher put it in.</summary>
public sealed record LabelledImage(string Name, int Label, bool Validation, RgbImage Image);

/// <summary>
/// Ants and bees (the PyTorch transfer-learning tutorial's data): <c>hymenoptera_data/{train,val}/{ants,bees}/*.jpg</c>,
/// 123 + 121 training and 70 + 83 validation photos of varying size (the training ants also hold
/// <c>imageNotFound.gif</c>, a placeholder that torchvision's ImageFolder skips, as this does: JPEG and PNG only).
/// Copies of the zip differ byte-wise (re-zipped), so the check is its contents: every folder with its number of photos.
/// </summary>
public static class HymenopteraDataset
{
    public static IReadOnlyList<string> Classes { get; } = ["ants", "bees"];

    public static DataFile File { get; } = new("hymenoptera_data.zip", new Uri("https://download.pytorch.org/tutorial/hymenoptera_data.zip"), ChecksumKind.Contents, "397 photos");

    private static readonly HashSet<string> PhotoExtensions = new([".jpg", ".jpeg", ".png"], StringComparer.OrdinalIgnoreCase);

    /// <summary>The photos each folder holds, as published.</summary>
    public static IReadOnlyDictionary<string, int> Expected { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["train/ants"] = 123,
        ["train/bees"] = 121,
        ["val/ants"] = 70,
        ["val/bees"] = 83,
    };

    /// <summary>Every photo, decoded and scaled to a shorter side of <paramref name="shorterSide"/> pixels, in name order.</summary>
    public static async Task<IReadOnlyList<LabelledImage>> LoadAsync(DataCache cache, int shorterSide, CancellationToken cancellationToken = default)
    {
        var path = await cache.GetAsync(File, cancellationToken).ConfigureAwait(false);
        using var zip = ZipFile.OpenRead(path);
        var entries = zip.Entries
            .Select(e => (Entry: e, Parts: e.FullName.Split('/')))
            .Where(e => e.Parts.Length >= 4 && PhotoExtensions.Contains(Path.GetExtension(e.Parts[^1])) && Expected.ContainsKey($"{e.Parts[^3]}/{e.Parts[^2]}"))
            .OrderBy(e => e.Entry.FullName, StringComparer.Ordinal)
            .ToList();
        var counts = entries.GroupBy(e => $"{e.Parts[^3]}/{e.Parts[^2]}").ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var wrong = Expected.Where(p => counts.GetValueOrDefault(p.Key) != p.Value).Select(p => $"{p.Key} has {counts.GetValueOrDefault(p.Key)} photos, expected {p.Value}").ToList();
        if (wrong.Count > 0)
        {
            throw new DataUnavailableException($"{path} is not the ants/bees data set: {string.Join("; ", wrong)}. Delete it to download it again from {File.Url}.");
        }

        var images = new LabelledImage[entries.Count];
        Parallel.For(0, entries.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var (entry, parts) = entries[i];
            byte[] bytes;
            lock (zip)
            {
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                bytes = buffer.ToArray();
            }

            using var encoded = new MemoryStream(bytes);
            images[i] = new LabelledImage(entry.FullName, parts[^2] == "bees" ? 1 : 0, parts[^3] == "val", RgbImage.Decode(encoded, shorterSide, $"{path}:{entry.FullName}"));
        });
        return images;
    }
}
