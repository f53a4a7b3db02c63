using System.Diagnostics;

namespace Tuner.Bench;

/// <summary>Runs peer systems (Python scripts under Debian's python3) for side-by-side figures.</summary>
internal static class Peers
{
    /// <summary>Debian's python3, which has the python3-optuna and python3-torch packages; null when absent.</summary>
    public static string? DebianPython => Python.Value;

    private static readonly Lazy<string?> Python = new(() =>
        File.Exists("/usr/bin/python3") && Run("/usr/bin/python3", ["-c", "import optuna"]) is not null ? "/usr/bin/python3" : null);

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
