using System.Runtime.InteropServices;

namespace Tuner.Training.Native;

/// <summary>
/// Makes TorchSharp 0.107 load on hosts whose libstdc++ predates GCC 13 (Debian 12, Ubuntu 22.04).
/// <c>libLibTorchSharp.so</c> requires the version <c>GLIBCXX_3.4.32</c> for one symbol,
/// <c>std::ios_base_library_init()</c>, which no relocation uses (GCC 13 only references it), so the
/// requirement can be marked weak and the loader accepts the file. Acts only on the copy in the
/// application's folder, only where the host's libstdc++ lacks the version, never in the NuGet cache.
/// </summary>
public static partial class LibTorchSharpCompatibility
{
    public const string MissingVersion = "GLIBCXX_3.4.32";

    private const string Symbol = "_ZSt21ios_base_library_initv";

    /// <summary>What <see cref="EnsureLoadable"/> did.</summary>
    public enum Outcome
    {
        /// <summary>Not Linux, or the host's libstdc++ has the version: nothing to do.</summary>
        NotNeeded,

        /// <summary>The requirement was already weak.</summary>
        AlreadyPatched,

        /// <summary>The requirement was marked weak now.</summary>
        Patched,
    }

    /// <summary>The native library TorchSharp loads, in the application's folder (or flattened beside it when published).</summary>
    public static string DefaultLibraryPath
    {
        get
        {
            var nested = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            return File.Exists(nested) ? nested : Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        }
    }

    /// <summary>True when the host's libstdc++ defines <see cref="MissingVersion"/>.</summary>
    public static bool HostHasVersion()
    {
        if (!NativeLibrary.TryLoad("libstdc++.so.6", out var handle))
        {
            return false;
        }

        return Dlvsym(handle, Symbol, MissingVersion) != 0;
    }

    public static Outcome EnsureLoadable() =>
        OperatingSystem.IsLinux() && !HostHasVersion() ? Patch(DefaultLibraryPath) : Outcome.NotNeeded;


    /// <summary>Marks the <see cref="MissingVersion"/> requirement of the library at <paramref name="path"/> weak.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static Outcome Patch(string path)
    {
        var full = Path.GetFullPath(path);
        if (IsInNuGetCache(full))
        {
            throw new InvalidOperationException($"refusing to modify {full}: it is in the NuGet cache; patch the copy in the application's folder");
        }

        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"TorchSharp's native library is not at {full}; is the TorchSharp package referenced?", full);
        }

        var bytes = File.ReadAllBytes(full);
        var elf = new ElfVersionNeeds(bytes);
        var need = elf.Needs().FirstOrDefault(n => n.Version == MissingVersion);
        if (need is null || need.IsWeak)
        {
            return Outcome.AlreadyPatched;
        }

        if (elf.IsUsedByARelocation(need))
        {
            throw new InvalidOperationException(
                $"{full} calls a symbol of {MissingVersion}, so it needs a libstdc++ from GCC 13 or later; this host's is older. Use a newer host or image (Ubuntu 24.04, Debian 13).");
        }

        elf.MarkWeak(need);

        // Written aside and renamed, so a process loading it at the same time never sees half a file.
        var temp = $"{full}.{Environment.ProcessId}.tmp";
        File.WriteAllBytes(temp, bytes);
        File.SetUnixFileMode(temp, File.GetUnixFileMode(full));
        File.Move(temp, full, overwrite: true);
        return Outcome.Patched;
    }

    /// <summary>NuGet's global packages folder: <c>NUGET_PACKAGES</c>, else <c>~/.nuget/packages</c>.</summary>
    internal static string NuGetCache => Path.GetFullPath(
        Environment.GetEnvironmentVariable("NUGET_PACKAGES")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"));

    internal static bool IsInNuGetCache(string path) =>
        path.StartsWith(NuGetCache.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    [LibraryImport("libc", EntryPoint = "dlvsym", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint Dlvsym(nint handle, string symbol, string version);
}
