using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Abstractions.Messages;
using Tuner.Core.Results;
using Tuner.Core.Spec;

namespace Tuner.Cli.Commands;

/// <summary>
/// <c>tuner extend RUN_DIR --samples N</c>: a completed run goes on to N samples on an embedded scheduler and worker, its
/// searcher continuing from the journal (no trial runs twice), as Ray users ask of a finished Tuner (ray#20886).
/// </summary>
public sealed class ExtendCommand(IAnsiConsole console) : AsyncCommand<ExtendCommand.Settings>
{
    public sealed class Settings : EmbeddedSettings
    {
        [CommandArgument(0, "<RUN_DIR>")]
        [Description("The completed run's folder (it holds journal.jsonl)")]
        public string RunDirectory { get; init; } = string.Empty;

        [CommandOption("-n|--samples <N>")]
        [Description("The run's new samples: more than it has")]
        public int Samples { get; init; }

        public override ValidationResult Validate() =>
            Samples < 1 ? ValidationResult.Error("--samples: give the run's new samples, e.g. --samples 400") : base.Validate();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var directory = Path.GetFullPath(settings.RunDirectory);
        if (RunJournal.TryRead(directory) is not { } run)
        {
            console.MarkupLineInterpolated($"[red]{settings.RunDirectory}[/]: not a run folder (it has no readable {RunJournal.FileName}); runs are under the output folder, e.g. runs/<experiment>");
            return ExitCodes.InvalidInput;
        }

        if (run.Status != "completed")
        {
            console.MarkupLineInterpolated($"[red]{settings.RunDirectory}[/]: the run is {run.Status ?? "unknown"}; only a completed run can be extended ({(run.IsUnfinished ? "tuner run SPEC picks up an unfinished one" : "a failed one is not continued")})");
            return ExitCodes.InvalidInput;
        }

        settings.ApplyDataDir();

        await using var tuner = await RunCommand.StartEmbeddedAsync(settings.Cpus, settings.Gpus, settings.Verbose, cancellationToken);
        var client = tuner.Client;
        var id = await client.RestoreAsync(directory);
        ExperimentSnapshot extended;
        try
        {
            extended = await client.ExtendAsync(id, settings.Samples, cancellationToken);
        }
        catch (SpecException ex)
        {
            SpecLoader.PrintErrors(console, settings.RunDirectory, ex.Errors);
            return ExitCodes.InvalidInput;
        }

        var spec = SpecParser.ParseStructure(run.SpecJson) with { Samples = settings.Samples };
        console.MarkupLineInterpolated($"[yellow]Extending {directory}[/] to {settings.Samples} samples: {extended.StateCounts.Values.Sum()} trial(s) so far");
        return await RunCommand.FollowAsync(console, client, id, spec, settings.Quiet, cancellationToken);
    }
}
