using System.Diagnostics;

namespace Tuner.Tests;

/// <summary>Runs a program to its end within a limit: its exit code and what it wrote, for tests of programs as a user runs them.</summary>
internal static class ProgramRun
{
    /// <exception cref="TimeoutException">It ran past <paramref name="limit"/>; it was killed with its children.</exception>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string program,
        IEnumerable<string> arguments,
        TimeSpan limit,
        CancellationToken cancellationToken,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? "" };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} did not end within {limit}");
        }

        return (process.ExitCode, await output, await error);
    }
}
