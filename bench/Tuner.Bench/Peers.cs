using Spectre.Console;
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

/// <summary>What a peer's search script prints: the best value per seed, the peer's version, and (when timed) seconds per trial.</summary>
internal sealed record PeerBest(double[] Best, string Version, double? SecondsPerTrial)
{
    /// <summary>Runs <c>peers/<paramref name="script"/></c> under Debian's python3 when it has Optuna (and <paramref name="module"/>); null otherwise.</summary>
    public static PeerBest? Run(string script, IEnumerable<string> arguments, string? module = null)
    {
        if (Peers.PythonWith("optuna") is not { } python || (module is not null && Peers.PythonWith(module) is null))
        {
            return null;
        }

        if (Peers.Run(python, [Path.Combine(AppContext.BaseDirectory, "peers", script), .. arguments]) is not { } output)
        {
            return null;
        }

        using var doc = System.Text.Json.JsonDocument.Parse(output);
        var root = doc.RootElement;
        return new PeerBest(
            [.. root.GetProperty("best").EnumerateArray().Select(e => e.GetDouble())],
            root.GetProperty("version").GetString()!,
            root.TryGetProperty("seconds_per_trial", out var s) ? s.GetDouble() : null);
    }
}

/// <summary>A row of a benchmark's table: the median of a figure over seeds and its 25th-75th percentiles.</summary>
internal static class QuartileRow
{
    /// <summary>Adds <paramref name="leading"/>, the median and quartiles of <paramref name="values"/>, then <paramref name="trailing"/>; returns the median.</summary>
    public static double Add(Spectre.Console.Table table, IEnumerable<string> leading, double[] values, params string[] trailing)
    {
        var sorted = values.Order().ToArray();
        var median = Tuner.Core.Schedulers.Quantile.Linear(sorted, 0.5);
        table.AddRow([.. leading, F(median), $"{F(Tuner.Core.Schedulers.Quantile.Linear(sorted, 0.25))} - {F(Tuner.Core.Schedulers.Quantile.Linear(sorted, 0.75))}", .. trailing]);
        return median;
    }

    public static string F(double value) => value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);
}
