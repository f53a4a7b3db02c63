using System.Collections.Concurrent;
using System.Diagnostics;

namespace Tuner.Bench;

/// <summary>Runs peer systems (Python scripts under Debian's python3) for side-by-side figures.</summary>
internal static class Peers
{
    private const string DebianPython = "/usr/bin/python3";

    private static readonly ConcurrentDictionary<string, bool> Modules = new(StringComparer.Ordinal);

    /// <summary>Debian's python3 when it can import <paramref name="module"/> (python3-optuna, python3-torch); null otherwise, or when TUNER_BENCH_NO_PEERS is set.</summary>
    public static string? PythonWith(string module) =>
        Environment.GetEnvironmentVariable("TUNER_BENCH_NO_PEERS") is not { Length: > 0 } && File.Exists(DebianPython) && Modules.GetOrAdd(module, m => Run(DebianPython, ["-c", $"import {m}"]) is not null) ? DebianPython : null;

    /// <summary>Runs a program and returns its standard output, or null when it failed.</summary>
    public static string? Run(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"{program} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {stderr.Result.Trim()}");
            return null;
        }

        return stdout.Result.Trim();
    }
}
