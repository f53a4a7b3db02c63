using Spectre.Console;
using Tuner.Core.Spec;

namespace Tuner.Cli.Commands;

/// <summary>Reads a spec file and prints its problems the way every command does.</summary>
internal static class SpecLoader
{
    public static ExperimentSpec? TryLoad(string path, IAnsiConsole console)
    {
        try
        {
            return SpecParser.ParseFile(path);
        }
        catch (SpecException ex)
        {
            PrintErrors(console, path, ex.Errors);
            return null;
        }
    }

    public static void PrintErrors(IAnsiConsole console, string path, IReadOnlyList<SpecError> errors)
    {
        console.MarkupLineInterpolated($"[red]error:[/] {path} is not a valid spec ({errors.Count} {(errors.Count == 1 ? "problem" : "problems")}):");
        foreach (var error in errors)
        {
            console.MarkupLineInterpolated($"  [yellow]{error.Path}[/]: {error.Message}{(error.Line is { } line ? $" (line {line})" : string.Empty)}");
        }
    }
}
