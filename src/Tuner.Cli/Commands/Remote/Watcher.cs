using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tuner.Abstractions.Messages;
using Tuner.Cli.Rendering;
using Tuner.Client;
using Tuner.Core.Experiments;

namespace Tuner.Cli.Commands.Remote;

/// <summary>Follows an experiment's events, redrawing a progress bar and the trial table (or printing a line every few seconds when output is redirected).</summary>
internal static class Watcher
{
    public static async Task<ExperimentSnapshot> WatchAsync(IAnsiConsole console, ITunerClient client, string experimentId, CancellationToken cancellationToken)
    {
        var snapshot = await client.GetAsync(experimentId, 20, cancellationToken);
        var interactive = console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi;
        var lastDrawn = long.MinValue;
        var interval = interactive ? TimeSpan.FromMilliseconds(300) : TimeSpan.FromSeconds(5);

        async Task FollowAsync(Action<ExperimentSnapshot> draw)
        {
            try
            {
                await foreach (var e in client.WatchAsync(experimentId, 0, cancellationToken))
                {
                    if (TimeProvider.System.GetElapsedTime(lastDrawn) >= interval || e.Kind == ExperimentEventKind.ExperimentStatus)
                    {
                        lastDrawn = TimeProvider.System.GetTimestamp();
                        snapshot = await client.GetAsync(experimentId, 20, cancellationToken);
                        draw(snapshot);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C stops watching; the experiment goes on (tuner stop ends it).
            }

            snapshot = await client.GetAsync(experimentId, 20, CancellationToken.None);
        }

        if (interactive)
        {
            await console.Live(Render(snapshot)).AutoClear(false).StartAsync(async live =>
            {
                await FollowAsync(s =>
                {
                    live.UpdateTarget(Render(s));
                    live.Refresh();
                });
                live.UpdateTarget(Render(snapshot));
                live.Refresh();
            });
        }
        else
        {
            await FollowAsync(s => console.WriteLine($"{Bar(s, 20)} {ExperimentView.StatusLine(s)}"));
            console.Write(Render(snapshot));
        }

        return snapshot;
    }

    private static IRenderable Render(ExperimentSnapshot s) => new Rows(new Text(Bar(s, 40)), ExperimentView.Render(s));

    /// <summary>A progress bar of ended trials against the experiment's total.</summary>
    public static string Bar(ExperimentSnapshot s, int width)
    {
        var ended = s.Count(TrialStatus.Terminated) + s.Count(TrialStatus.Error);
        var total = Math.Max(s.TotalTrials, 1);
        var filled = (int)Math.Round(width * Math.Min(1.0, ended / (double)total));
        return string.Create(CultureInfo.InvariantCulture, $"[{new string('#', filled)}{new string('-', width - filled)}] {ended}/{s.TotalTrials} trials ended, {s.Status.ToWire()}");
    }

    public static int ExitCode(ExperimentSnapshot s) => s switch
    {
        { IsSpecError: true } => ExitCodes.InvalidInput,
        { Status: ExperimentStatus.Failed } => ExitCodes.RuntimeFailure,
        _ when s.Count(TrialStatus.Error) > 0 => ExitCodes.RuntimeFailure,
        _ => ExitCodes.Success,
    };
}
