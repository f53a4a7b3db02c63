using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Cli.Commands;

namespace Tuner.Cli;

/// <summary>The <c>tuner</c> command line, callable in-process (tests pass their own console).</summary>
public static class TunerCli
{
    public static async Task<int> RunAsync(string[] args, IAnsiConsole? console = null, CancellationToken cancellationToken = default)
    {
        console ??= AnsiConsole.Console;
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("tuner");
            config.UseAssemblyInformationalVersion();
            config.ConfigureConsole(console);
            config.CancellationExitCode(ExitCodes.Interrupted);
            config.AddCommand<RunCommand>("run")
                .WithDescription("Run an experiment in this process (an embedded scheduler and worker) and write its results")
                .WithExample("run", "examples/branin-random.yaml")
                .WithExample("run", "examples/hartmann6-grid.yaml", "--output", "/tmp/runs");
            config.AddCommand<ExtendCommand>("extend")
                .WithDescription("Continue a completed run to more samples: its searcher goes on from the journal, no trial runs twice")
                .WithExample("extend", "runs/branin-random", "--samples", "400");
            config.AddCommand<ValidateCommand>("validate")
                .WithDescription("Check a spec and show what it would run, without running it")
                .WithExample("validate", "examples/branin-random.yaml");
            config.AddCommand<SpaceCommand>("space")
                .WithDescription("Describe a spec's search space: dimensions, size, the samples a coverage needs, the scheduler's plan, and whether the budget is too small")
                .WithExample("space", "examples/gestures-gru.yaml")
                .WithExample("space", "examples/gestures-gru.yaml", "--json");
            config.AddCommand<ReportCommand>("report")
                .WithDescription("Write a run folder's report: report.html (self-contained) with learning curves, best over time, parallel coordinates, heatmaps, parameter importance and learning-rate flags, and the charts as PNGs")
                .WithExample("report", "runs/branin-random");
            config.AddCommand<Commands.Remote.SubmitCommand>("submit")
                .WithDescription("Start an experiment on a Scheduler.Silo (--server) and print its id")
                .WithExample("submit", "examples/branin-random.yaml", "--watch");
            config.AddCommand<Commands.Remote.WatchCommand>("watch")
                .WithDescription("Show a live table of an experiment on the server until it ends")
                .WithExample("watch", "branin-random-20261127T120000-a1b2c3");
            config.AddCommand<Commands.Remote.StatusCommand>("status")
                .WithDescription("List the server's experiments, or show one with its trials")
                .WithExample("status");
            config.AddCommand<Commands.Remote.StopCommand>("stop")
                .WithDescription("Stop an experiment on the server (or one trial with --trial)")
                .WithExample("stop", "branin-random-20261127T120000-a1b2c3");
            config.AddCommand<Commands.Remote.ResumeCommand>("resume")
                .WithDescription("Continue a stopped experiment; interrupted trials resume from their checkpoints")
                .WithExample("resume", "branin-random-20261127T120000-a1b2c3");
            config.AddCommand<Commands.Remote.ResultsCommand>("results")
                .WithDescription("Every trial's config and last metrics, and the best, as a table, CSV or JSON")
                .WithExample("results", "branin-random-20261127T120000-a1b2c3", "--format", "csv", "--output", "results.csv");
            config.SetExceptionHandler((ex, _) =>
            {
                console.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
                return ex is CommandParseException or CommandRuntimeException ? ExitCodes.InvalidInput : ExitCodes.RuntimeFailure;
            });
        });
        return await app.RunAsync(args, cancellationToken).ConfigureAwait(false);
    }
}
