using Tuner.Data.Cache;
using Tuner.Tests;

namespace Tuner.Data.Tests;

/// <summary>Where the tests find the data sets on a fresh clone: the variable, the shared copies, then the user's download cache.</summary>
public sealed class SharedDataTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"tuner-shared-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void TheConfiguredFolder_WinsOverTheSharedCopies()
    {
        var shared = Directory.CreateDirectory(Path.Combine(_root, "shared")).FullName;

        Assert.Equal(Path.Combine(_root, "mine"), SharedData.Choose(Path.Combine(_root, "mine"), shared));
    }

    [Fact]
    public void TheSharedCopies_AreUsedWhereTheyExist()
    {
        var shared = Directory.CreateDirectory(Path.Combine(_root, "shared")).FullName;

        Assert.Equal(shared, SharedData.Choose(null, shared));
        Assert.Equal(shared, SharedData.Choose("", shared));
    }

    [Fact]
    public void AFreshClone_WithoutSharedCopies_UsesTheUsersDownloadCache()
    {
        var chosen = SharedData.Choose(null, Path.Combine(_root, "no-shared-here"));

        Assert.Equal(DataCache.Resolve(directory: null).Directory, chosen);
        Assert.True(Directory.Exists(chosen));
    }
}
