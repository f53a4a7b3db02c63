using Tuner.Tests;

namespace Tuner.Observability.Tests;

/// <summary>Headless Chromium (Debian's <c>chromium</c>, which .ci/run installs): a page's DOM after its scripts ran, or a screenshot.</summary>
internal static class Chromium
{
    public static string Program { get; } = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("headless Chromium is not installed; install it (Debian: apt-get install -y chromium), as .ci/run does");

    /// <summary>The DOM of <paramref name="url"/> once its scripts had <paramref name="virtualTime"/> of timers to run.</summary>
    public static async Task<string> DumpDomAsync(string url, TimeSpan virtualTime, CancellationToken cancellationToken)
    {
        var (_, output) = await RunAsync([$"--virtual-time-budget={(int)virtualTime.TotalMilliseconds}", "--dump-dom", url], cancellationToken);
        return output;
    }

    /// <summary>A PNG of <paramref name="url"/> at the given window size.</summary>
    public static async Task ScreenshotAsync(string url, string png, int width, int height, CancellationToken cancellationToken)
    {
        var (exit, output) = await RunAsync([$"--screenshot={png}", $"--window-size={width},{height}", "--virtual-time-budget=2000", "--hide-scrollbars", url], cancellationToken);
        if (!File.Exists(png))
        {
            throw new InvalidOperationException($"chromium wrote no screenshot (exit {exit}):\n{output}");
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var profile = Directory.CreateTempSubdirectory("tuner-chromium-").FullName;
        try
        {
            var (exit, output, error) = await ProgramRun.RunAsync(
                Program,
                new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions", $"--user-data-dir={profile}" }.Concat(arguments),
                TimeSpan.FromMinutes(2),
                cancellationToken);
            return (exit, output.Length > 0 ? output : error);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }
}
