using Tuner.Training.Native;
using static TorchSharp.torch;

namespace Tuner.Training.Tests;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LibTorchSharpCompatibilityTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), $"tuner-torch-{Guid.NewGuid():N}");

    public LibTorchSharpCompatibilityTests() => Directory.CreateDirectory(_temp);

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    /// <summary>The untouched library in the NuGet cache: read here, never written.</summary>
    private static string Pristine =>
        Path.Combine(LibTorchSharpCompatibility.NuGetCache, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Fact]
    public void TorchSharp_LoadsOnThisHost_AndTrainsAModel()
    {
        var outcome = TorchRuntime.EnsureInitialized();

        Assert.Equal(
            LibTorchSharpCompatibility.HostHasVersion(),
            outcome == LibTorchSharpCompatibility.Outcome.NotNeeded);
        manual_seed(1);
        using var scope = NewDisposeScope();
        var x = randn(256, 3);
        var y = x.matmul(tensor(new[] { 2f, -1f, 0.5f }).reshape(3, 1)) + 0.25f;
        var model = TorchSharp.torch.nn.Linear(3, 1);
        var optimizer = TorchSharp.torch.optim.SGD(model.parameters(), 0.1);
        var first = 0f;
        var last = 0f;
        for (var step = 0; step < 200; step++)
        {
            optimizer.zero_grad();
            var loss = TorchSharp.torch.nn.functional.mse_loss(model.forward(x), y);
            loss.backward();
            optimizer.step();
            last = loss.item<float>();
            first = step == 0 ? last : first;
        }

        Assert.True(last < first / 100, $"loss went from {first} to {last}");
    }

    [Fact]
    public void Patch_MarksOnlyTheMissingVersionWeak_AndIsIdempotent()
    {
        var copy = Path.Combine(_temp, "libLibTorchSharp.so");
        File.Copy(Pristine, copy);
        var before = new ElfVersionNeeds(File.ReadAllBytes(copy)).Needs();

        var first = LibTorchSharpCompatibility.Patch(copy);
        var second = LibTorchSharpCompatibility.Patch(copy);

        Assert.Equal(LibTorchSharpCompatibility.Outcome.Patched, first);
        Assert.Equal(LibTorchSharpCompatibility.Outcome.AlreadyPatched, second);
        var after = new ElfVersionNeeds(File.ReadAllBytes(copy)).Needs();
        Assert.Equal(before.Select(n => (n.Library, n.Version, n.Index)), after.Select(n => (n.Library, n.Version, n.Index)));
        var changed = Assert.Single(after.Zip(before), p => p.First.Flags != p.Second.Flags).First;
        Assert.Equal(("libstdc++.so.6", LibTorchSharpCompatibility.MissingVersion, true), (changed.Library, changed.Version, changed.IsWeak));
        Assert.False(new ElfVersionNeeds(File.ReadAllBytes(Pristine)).Needs().Single(n => n.Version == LibTorchSharpCompatibility.MissingVersion).IsWeak);
        Assert.Equal(new FileInfo(Pristine).Length, new FileInfo(copy).Length);
    }

    [Fact]
    public void TheMissingVersion_IsUsedByNoRelocation_SoMarkingItWeakIsSafe()
    {
        var elf = new ElfVersionNeeds(File.ReadAllBytes(Pristine));
        var needs = elf.Needs();

        Assert.False(elf.IsUsedByARelocation(needs.Single(n => n.Version == LibTorchSharpCompatibility.MissingVersion)));
        Assert.True(elf.IsUsedByARelocation(needs.Single(n => n.Version == "GLIBCXX_3.4")));
    }

    [Fact]
    public void Patch_RefusesToTouchTheNuGetCache()
    {
        var bytes = File.ReadAllBytes(Pristine);

        var ex = Assert.Throws<InvalidOperationException>(() => LibTorchSharpCompatibility.Patch(Pristine));

        Assert.Contains("NuGet cache", ex.Message, StringComparison.Ordinal);
        Assert.Equal(bytes, File.ReadAllBytes(Pristine));
    }

    [Fact]
    public void Patch_RejectsAFileThatIsNotElf()
    {
        var path = Path.Combine(_temp, "not-elf.so");
        File.WriteAllText(path, "text");

        Assert.Throws<InvalidDataException>(() => LibTorchSharpCompatibility.Patch(path));
    }
}
