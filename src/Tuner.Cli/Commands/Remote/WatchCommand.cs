using Spectre.Console;
using Tuner.Client;

namespace Tuner.Cli.Commands.Remote;

/// <summary><c>tuner watch ID</c>: a live table of the experiment until it ends; Ctrl+C stops watching, not the experiment.</summary>
public sealed class WatchCommand(IAnsiConsole console) : RemoteCommand<ExperimentSettings>(console)
{
    protected override async Task<int> ExecuteAsync(TunerClient client, ExperimentSettings settings, CancellationToken cancellationToken) =>
        Watcher.ExitCode(await Watcher.WatchAsync(Console, client, settings.ExperimentId, cancellationToken));
}
