using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Client;
using Tuner.Core.Experiments;

namespace Tuner.Cli.Commands.Remote;

/// <summary><c>tuner resume ID</c>: continues a stopped experiment; its interrupted trials go on from their checkpoints.</summary>
public sealed class ResumeCommand(IAnsiConsole console) : RemoteCommand<ResumeCommand.Settings>(console)
{
    public sealed class Settings : ExperimentSettings
    {
        [CommandOption("-w|--watch")]
        [Description("Watch the experiment until it ends")]
        public bool Watch { get; init; }
    }

    protected override async Task<int> ExecuteAsync(TunerClient client, Settings settings, CancellationToken cancellationToken)
    {
        var snapshot = await client.ResumeAsync(settings.ExperimentId, cancellationToken);
        Console.MarkupLineInterpolated($"{snapshot.ExperimentId}: {snapshot.Status.ToWire()}");
        return settings.Watch ? Watcher.ExitCode(await Watcher.WatchAsync(Console, client, snapshot.ExperimentId, cancellationToken)) : ExitCodes.Success;
    }
}
