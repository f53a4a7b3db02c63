using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Client;
using Tuner.Core.Experiments;

namespace Tuner.Cli.Commands.Remote;

/// <summary><c>tuner stop ID [--trial T]</c>: stops an experiment (waiting until its files are written), or one of its trials.</summary>
public sealed class StopCommand(IAnsiConsole console) : RemoteCommand<StopCommand.Settings>(console)
{
    public sealed class Settings : ExperimentSettings
    {
        [CommandOption("--trial <TRIAL>")]
        [Description("Stop only this trial (e.g. t00003)")]
        public string? Trial { get; init; }

        [CommandOption("--reason <TEXT>")]
        [Description("Recorded as the reason (default: stopped by the user)")]
        public string? Reason { get; init; }
    }

    protected override async Task<int> ExecuteAsync(TunerClient client, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Trial is { } trial)
        {
            var info = await client.StopTrialAsync(settings.ExperimentId, trial, settings.Reason, cancellationToken);
            Console.MarkupLineInterpolated($"trial {info.TrialId}: {info.Status.ToWire()}{(info.StatusReason is { } r ? $" ({r})" : string.Empty)}");
            return ExitCodes.Success;
        }

        var snapshot = await Console.Status().StartAsync($"stopping {settings.ExperimentId} (running trials checkpoint and end)", async _ =>
            await client.StopAsync(settings.ExperimentId, settings.Reason, cancellationToken));
        Console.MarkupLineInterpolated($"{snapshot.ExperimentId}: {snapshot.Status.ToWire()}; resume it with: tuner resume {snapshot.ExperimentId}");
        return ExitCodes.Success;
    }
}
