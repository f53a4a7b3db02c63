using Tuner.Data.Cache;

namespace Tuner.Data.Pretrained;

/// <summary>
/// The ImageNet-pretrained ResNet-18 that ML.NET publishes in the NuGet package
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> 0.23.1: <c>ResNet18.onnx</c> (exported from CNTK; pooled
/// 512 features, no classifier) and <c>ResNetPreprocess.onnx</c> (RGB to BGR, minus a mean image). Found
/// in the data cache, else in the NuGet packages folder (building Tuner restores the package there), else
/// downloaded from nuget.org into the cache; verified by SHA-256 wherever they come from.
/// </summary>
public static class ResNet18Files
{
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    public const string PackageVersion = "0.23.1";

    public static Uri Package { get; } = new($"https://www.nuget.org/api/v2/package/{PackageId}/{PackageVersion}");

    public static DataFile Model { get; } = new("resnet18/ResNet18.onnx", Package, ChecksumKind.Sha256, "e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f");

    public static DataFile Preprocess { get; } = new("resnet18/ResNetPreprocess.onnx", Package, ChecksumKind.Sha256, "84bf8def78d0befaa3f6e73745d57d7016c6a192ead76f79686bd438c1047004");

    /// <summary>The verified paths of the model and its preprocessing graph.</summary>
    public static async Task<(string Model, string Preprocess)> LocateAsync(DataCache cache, CancellationToken cancellationToken = default)
    {
        string[] cached = [Path.Combine(cache.Directory, Model.RelativePath), Path.Combine(cache.Directory, Preprocess.RelativePath)];
        if (!cached.All(File.Exists) && NuGetCopy() is { } restored)
        {
            await DataCache.VerifyAsync(Model, restored.Model, cancellationToken).ConfigureAwait(false);
            await DataCache.VerifyAsync(Preprocess, restored.Preprocess, cancellationToken).ConfigureAwait(false);
            return restored;
        }

        var paths = await cache.GetFromArchiveAsync(Package, [Model, Preprocess], cancellationToken).ConfigureAwait(false);
        return (paths[0], paths[1]);
    }

    /// <summary>The files in the NuGet packages folder (<c>NUGET_PACKAGES</c>, else <c>~/.nuget/packages</c>), when restored there.</summary>
    public static (string Model, string Preprocess)? NuGetCopy()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var models = Path.Combine(root, PackageId.ToLowerInvariant(), PackageVersion, "tools", "DnnImageModels");
        var found = (Path.Combine(models, "ResNet18Onnx", "ResNet18.onnx"), Path.Combine(models, "ResNetPrepOnnx", "ResNetPreprocess.onnx"));
        return File.Exists(found.Item1) && File.Exists(found.Item2) ? found : null;
    }
}
