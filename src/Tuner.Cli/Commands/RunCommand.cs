using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Abstractions.Messages;
using Tuner.Cli.Rendering;
using Tuner.Embedded;
using Tuner.Core.Experiments;
using Tuner.Core.Results;
using Tuner.Core.Spec;
using Tuner.Data.Cache;

namespace Tuner.Cli.Commands;

/// <summary><c>tuner run SPEC</c>: runs an experiment on an embedded scheduler and worker, showing a live table of trials.</summary>
public sealed class RunCommand(IAnsiConsole console) : AsyncCommand<RunCommand.Settings>
{
    public sealed class Settings : EmbeddedSettings
    {
        [CommandArgument(0, "<SPEC>")]
        [Description("The experiment spec, a YAML file")]
        public string Spec { get; init; } = string.Empty;

        [CommandOption("-o|--output <DIR>")]
        [Description("Where results go: DIR/<experiment>/ (default ./runs)")]
        public string Output { get; init; } = "runs";

        [CommandOption("--samples <N>")]
        [Description("Run N samples instead of the spec's; when a completed run of this spec is in the output folder, it is extended to N (its searcher goes on from its journal)")]
        public int? Samples { get; init; }

        [CommandOption("--fresh")]
        [Description("Start a new run even when an unfinished run of this spec (killed, or stopped) is in the output folder; by default that run goes on")]
        public bool Fresh { get; init; }

        public override ValidationResult Validate() =>
            Samples is < 1 ? ValidationResult.Error("--samples must be at least 1") : base.Validate();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var spec = SpecLoader.TryLoad(settings.Spec, console);
        if (spec is null)
        {
            return ExitCodes.InvalidInput;
        }

        settings.ApplyDataDir();

        var cpus = settings.Cpus ?? Environment.ProcessorCount;
        var capacity = new List<SpecError>();
        if (spec.Resources.Cpu > cpus)
        {
            capacity.Add(new SpecError("resources.cpu", $"each trial asks for {spec.Resources.Cpu} CPU slots but the embedded worker has {cpus}; lower resources.cpu or pass --cpus"));
        }

        if (spec.Resources.Gpu > settings.Gpus)
        {
            capacity.Add(new SpecError("resources.gpu", $"each trial asks for {spec.Resources.Gpu} GPUs but the embedded worker has {settings.Gpus}; lower resources.gpu or pass --gpus"));
        }

        if (capacity.Count > 0)
        {
            SpecLoader.PrintErrors(console, settings.Spec, capacity);
            return ExitCodes.InvalidInput;
        }

        await using var tuner = await StartEmbeddedAsync(settings.Cpus, settings.Gpus, settings.Verbose, cancellationToken);
        var client = tuner.Client;
        string id;
        if (!settings.Fresh && settings.Samples is { } samples && RunJournal.FindCompleted(settings.Output, spec) is { } completed)
        {
            // A completed run of this spec, to more samples: its searcher goes on from the journal, no trial runs twice.
            id = await client.RestoreAsync(completed.Directory, spec);
            var extended = await client.ExtendAsync(id, samples, cancellationToken);
            console.MarkupLineInterpolated($"[yellow]Extending the completed run in {completed.Directory}[/] to {samples} samples: {extended.StateCounts.Values.Sum()} trial(s) so far (--fresh starts a new run)");
        }
        else if (!settings.Fresh && RunJournal.FindUnfinished(settings.Output, spec) is { } unfinished)
        {
            // As Ray's Tuner.restore: the same command picks up a run that was killed or stopped, without repeating finished trials.
            id = await client.RestoreAsync(unfinished.Directory, spec);
            var restored = await client.GetAsync(id, 0, cancellationToken);
            if (restored.Status == ExperimentStatus.Stopped)
            {
                restored = await client.ResumeAsync(id, cancellationToken);
            }

            console.MarkupLineInterpolated($"[yellow]Resuming the unfinished run in {unfinished.Directory}[/]: {restored.Count(TrialStatus.Terminated) + restored.Count(TrialStatus.Error)} trial(s) finished, {restored.Count(TrialStatus.Pending) + restored.Count(TrialStatus.Running) + restored.Count(TrialStatus.Paused)} to go on (--fresh starts a new run)");
        }
        else
        {
            id = await client.StartAsync(settings.Samples is { } n ? spec with { Samples = n } : spec, settings.Output);
        }

        return await FollowAsync(console, client, id, spec, settings.Quiet, cancellationToken);
    }

    /// <summary>An embedded scheduler and worker with <paramref name="cpus"/> slots (default: the cores) and <paramref name="gpus"/> GPUs.</summary>
    internal static Task<EmbeddedTuner> StartEmbeddedAsync(double? cpus, int gpus, bool verbose, CancellationToken cancellationToken) =>
        EmbeddedTuner.StartAsync(new EmbeddedTunerOptions
        {
            CpuSlots = cpus ?? Environment.ProcessorCount,
            Gpus = gpus,
            LogLevel = verbose ? Microsoft.Extensions.Logging.LogLevel.Information : Microsoft.Extensions.Logging.LogLevel.Warning,
        }, cancellationToken);

    /// <summary>Shows experiment <paramref name="id"/> until it ends (a live table, or progress lines when the output is redirected), then its summary; returns the exit code.</summary>
    internal static async Task<int> FollowAsync(IAnsiConsole console, ClusterTunerClient client, string id, ExperimentSpec spec, bool quiet, CancellationToken cancellationToken)
    {
        ExperimentSnapshot final;
        if (quiet)
        {
            final = await client.WaitAsync(id, null, cancellationToken);
        }
        else if (console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi)
        {
            final = await console.Live(new Text("starting...")).AutoClear(false).StartAsync(async live =>
                await client.WaitAsync(id, new InlineProgress<ExperimentSnapshot>(s =>
                {
                    live.UpdateTarget(ExperimentView.Render(s, spec));
                    live.Refresh();
                }), cancellationToken));
        }
        else
        {
            // Redirected output (CI, files): a progress line every few seconds instead of redrawing a table.
            var lastPrinted = long.MinValue;
            final = await client.WaitAsync(id, new InlineProgress<ExperimentSnapshot>(s =>
            {
                if (!s.IsFinal && TimeProvider.System.GetElapsedTime(lastPrinted) >= TimeSpan.FromSeconds(5))
                {
                    lastPrinted = TimeProvider.System.GetTimestamp();
                    console.WriteLine(ExperimentView.StatusLine(s));
                }
            }), cancellationToken);
            console.Write(ExperimentView.Render(final, spec));
        }

        // Every row for the summary: failures and learning-rate advice may be anywhere in the table.
        final = await client.GetAsync(id, final.StateCounts.Values.Sum(), CancellationToken.None);

        ExperimentView.PrintSummary(console, final);
        return final switch
        {
            { IsSpecError: true } => ExitCodes.InvalidInput,
            { Status: ExperimentStatus.Stopped } when cancellationToken.IsCancellationRequested => ExitCodes.Interrupted,
            { Status: ExperimentStatus.Failed } => ExitCodes.RuntimeFailure,
            _ when final.Count(TrialStatus.Error) > 0 => ExitCodes.RuntimeFailure,
            _ => ExitCodes.Success,
        };
    }

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
