using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Client;

namespace Tuner.Cli.Commands.Remote;

/// <summary><c>tuner submit SPEC</c>: starts an experiment on a Scheduler.Silo and prints its id.</summary>
public sealed class SubmitCommand(IAnsiConsole console) : RemoteCommand<SubmitCommand.Settings>(console)
{
    public sealed class Settings : RemoteSettings
    {
        [CommandArgument(0, "<SPEC>")]
        [Description("The experiment spec, a YAML file")]
        public string Spec { get; init; } = string.Empty;

        [CommandOption("--id <ID>")]
        [Description("The experiment's id (default: name, time and a random suffix)")]
        public string? Id { get; init; }

        [CommandOption("--no-upload")]
        [Description("Do not upload a custom trainable's assembly; the workers have it at the spec's path")]
        public bool NoUpload { get; init; }

        [CommandOption("-w|--watch")]
        [Description("Watch the experiment until it ends")]
        public bool Watch { get; init; }
    }

    protected override async Task<int> ExecuteAsync(TunerClient client, Settings settings, CancellationToken cancellationToken)
    {
        var spec = SpecLoader.TryLoad(settings.Spec, Console);
        if (spec is null)
        {
            return ExitCodes.InvalidInput;
        }

        var submitted = await Console.Status().StartAsync($"submitting {spec.Name} to {settings.ServerAddress}", async _ =>
            await client.SubmitAsync(spec, new SubmitOptions { ExperimentId = settings.Id, UploadCode = !settings.NoUpload }, cancellationToken));
        Console.MarkupLineInterpolated($"submitted [bold]{submitted.ExperimentId}[/]: {submitted.TotalTrials} trials, results in {submitted.OutputDirectory} on the server");
        if (!settings.Watch)
        {
            Console.MarkupLineInterpolated($"watch it with: tuner watch {submitted.ExperimentId}");
            return ExitCodes.Success;
        }

        return Watcher.ExitCode(await Watcher.WatchAsync(Console, client, submitted.ExperimentId, cancellationToken));
    }
}
