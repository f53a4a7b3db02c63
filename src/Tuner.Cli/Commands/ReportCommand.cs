using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Reports;

namespace Tuner.Cli.Commands;

/// <summary><c>tuner report RUN_DIR</c>: writes report.html (self-contained) and the charts as PNGs into the run folder.</summary>
public sealed class ReportCommand(IAnsiConsole console) : Command<ReportCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RUN_DIR>")]
        [Description("A run folder (the one holding experiment.json, e.g. runs/branin-random)")]
        public string RunDirectory { get; init; } = string.Empty;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(settings.RunDirectory))
        {
            console.MarkupLineInterpolated($"[red]error:[/] RUN_DIR: {settings.RunDirectory} does not exist");
            return ExitCodes.InvalidInput;
        }

        try
        {
            var (page, charts) = RunReport.Write(Path.GetFullPath(settings.RunDirectory));
            console.MarkupLineInterpolated($"[green]report:[/] {page} ({charts.Count} charts, also as PNGs in {Path.Combine(Path.GetDirectoryName(page)!, "report")})");
            return ExitCodes.Success;
        }
        catch (FileNotFoundException ex)
        {
            console.MarkupLineInterpolated($"[red]error:[/] RUN_DIR: {ex.Message}");
            return ExitCodes.InvalidInput;
        }
    }
}
