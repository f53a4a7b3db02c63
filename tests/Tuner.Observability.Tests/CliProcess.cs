using Tuner.Tests;

namespace Tuner.Observability.Tests;

/// <summary>The <c>tuner</c> CLI of this build, run as a process with the environment a test gives it.</summary>
internal static class CliProcess
{
    public static string Configuration { get; } = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var cli = Path.Combine(RepoRoot.Path, "src", "Tuner.Cli", "bin", Configuration, "net10.0", "tuner.dll");
        var variables = new Dictionary<string, string> { ["NO_COLOR"] = "1", ["COLUMNS"] = "200" };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        var (code, output, error) = await ProgramRun.RunAsync("dotnet", ["exec", cli, .. arguments], timeout, cancellationToken, workingDirectory, variables);
        return (code, output + error);
    }
}
