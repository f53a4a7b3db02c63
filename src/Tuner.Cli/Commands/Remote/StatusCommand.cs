using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Cli.Rendering;
using Tuner.Client;
using Tuner.Core.Experiments;

namespace Tuner.Cli.Commands.Remote;

/// <summary><c>tuner status [ID]</c>: every experiment on the service, or one with its trials.</summary>
public sealed class StatusCommand(IAnsiConsole console) : RemoteCommand<StatusCommand.Settings>(console)
{
    public sealed class Settings : RemoteSettings
    {
        [CommandArgument(0, "[EXPERIMENT]")]
        [Description("An experiment's id; without one, every experiment is listed")]
        public string? ExperimentId { get; init; }
    }

    protected override async Task<int> ExecuteAsync(TunerClient client, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.ExperimentId is { } id)
        {
            var snapshot = await client.GetAsync(id, 50, cancellationToken);
            Console.Write(ExperimentView.Render(snapshot));
            return ExitCodes.Success;
        }

        var experiments = await client.ListAsync(cancellationToken);
        if (experiments.Count == 0)
        {
            Console.WriteLine("no experiments yet (tuner submit SPEC starts one)");
            return ExitCodes.Success;
        }

        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "Experiment", "Status", "Trials", "Running", "Ended", "Errors", "Best" })
        {
            table.AddColumn(column);
        }

        foreach (var e in experiments)
        {
            table.AddRow(
                Markup.Escape(e.ExperimentId),
                Markup.Escape(e.Status.ToWire()),
                e.TotalTrials.ToString(CultureInfo.InvariantCulture),
                e.Count(TrialStatus.Running).ToString(CultureInfo.InvariantCulture),
                e.Count(TrialStatus.Terminated).ToString(CultureInfo.InvariantCulture),
                e.Count(TrialStatus.Error).ToString(CultureInfo.InvariantCulture),
                Markup.Escape(e.Best is { } b && b.LastResult.GetMetric(e.Metric) is { } v ? $"{b.TrialId} {e.Metric}={ExperimentView.Format(v)}" : "-"));
        }

        Console.Write(table);
        return ExitCodes.Success;
    }
}
