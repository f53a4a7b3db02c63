using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Core.Results;
using Tuner.Core.Space;

namespace Tuner.Cli.Commands;

/// <summary>
/// <c>tuner space SPEC</c>: what a search space amounts to before anything runs: its dimensions, how many
/// configs there are, how many samples a coverage needs, the scheduler's plan, and a warning when the
/// budget is far too small for the space.
/// </summary>
public sealed class SpaceCommand(IAnsiConsole console) : Command<SpaceCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<SPEC>")]
        [Description("The experiment spec, a YAML file")]
        public string Spec { get; init; } = string.Empty;

        [CommandOption("--json")]
        [Description("Print the report as JSON (the plan as brackets: [{ rungs: [{ configs, resource }] }])")]
        public bool Json { get; init; }

        [CommandOption("--coverage <K>")]
        [Description("Values of every dimension to try in combination when counting the samples needed (default 3)")]
        public int Coverage { get; init; } = 3;

        public override ValidationResult Validate() =>
            Coverage < 2 ? ValidationResult.Error("--coverage must be at least 2") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var spec = SpecLoader.TryLoad(settings.Spec, console);
        if (spec is null)
        {
            return ExitCodes.InvalidInput;
        }

        var report = SpaceReport.For(spec, settings.Coverage);
        if (settings.Json)
        {
            console.Profile.Width = int.MaxValue / 2;
            console.WriteLine(ToJson(spec.Scheduler.Algorithm, report));
            return ExitCodes.Success;
        }

        var conditional = report.Dimensions.Any(d => d.When is not null);
        var dimensions = new Table().AddColumns("dimension", "primitive", "kind", "values", "distinct");
        if (conditional)
        {
            dimensions.AddColumn("active when");
        }

        foreach (var d in report.Dimensions)
        {
            string[] cells = [Markup.Escape(d.Name), d.Primitive, d.Kind, Markup.Escape(d.Range), d.Cardinality is { } c ? c.ToString("N0", CultureInfo.InvariantCulture) : "continuous"];
            dimensions.AddRow(conditional ? [.. cells, Markup.Escape(d.When ?? "always")] : cells);
        }

        console.Write(dimensions);
        console.MarkupLineInterpolated($"Distinct configs: {(report.DistinctConfigs is { } n ? n.ToString("N0", CultureInfo.InvariantCulture) : "unbounded (continuous dimensions)")}; this spec runs {report.TrialBudget:N0} trials.");
        console.MarkupLineInterpolated($"Trying {report.Coverage} values of every dimension in combination takes {report.SamplesForCoverage:N0} samples; {report.TrialBudget:N0} samples cover about {report.ValuesPerDimensionCovered:F1} values per dimension.");
        if (report.Brackets.Count > 0)
        {
            var plan = new Table().AddColumns("bracket", "rung", "configs", "resource each");
            foreach (var bracket in report.Brackets)
            {
                for (var i = 0; i < bracket.Rungs.Count; i++)
                {
                    plan.AddRow(bracket.S.ToString(CultureInfo.InvariantCulture), i.ToString(CultureInfo.InvariantCulture), bracket.Rungs[i].Configs.ToString("N0", CultureInfo.InvariantCulture), F(bracket.Rungs[i].Resource));
                }
            }

            console.Write(plan);
        }

        if (report.PlanNote is { } note)
        {
            console.MarkupLineInterpolated($"{note}");
        }

        if (report.PlanResource is { } used && report.FullResource is { } full && full > 0)
        {
            console.MarkupLineInterpolated($"Total resource: {F(used)} against {F(full)} running every config to the maximum ({used / full:P0}).");
        }

        if (report.Warning is { } warning)
        {
            console.MarkupLineInterpolated($"[yellow]warning:[/] {warning}");
        }

        return ExitCodes.Success;
    }

    private static string F(double value) => double.IsNaN(value) ? "until done" : value.ToString("#,0.##", CultureInfo.InvariantCulture);

    private static string ToJson(string scheduler, SpaceReport report)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = ResultJson.Encoder }))
        {
            w.WriteStartObject();
            w.WriteStartArray("dimensions");
            foreach (var d in report.Dimensions)
            {
                w.WriteStartObject();
                w.WriteString("name", d.Name);
                w.WriteString("primitive", d.Primitive);
                w.WriteString("kind", d.Kind);
                w.WriteString("values", d.Range);
                if (d.When is { } when)
                {
                    w.WriteString("when", when);
                }

                if (d.Cardinality is { } c)
                {
                    w.WriteNumber("distinct", c);
                }
                else
                {
                    w.WriteNull("distinct");
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (report.DistinctConfigs is { } n)
            {
                w.WriteNumber("distinct_configs", n);
            }
            else
            {
                w.WriteString("distinct_configs", "unbounded");
            }

            w.WriteNumber("trials", report.TrialBudget);
            w.WriteNumber("coverage", report.Coverage);
            w.WriteNumber("samples_for_coverage", report.SamplesForCoverage);
            w.WriteNumber("values_per_dimension_covered", Math.Round(report.ValuesPerDimensionCovered, 3));
            w.WriteString("scheduler", scheduler);
            w.WriteStartArray("brackets");
            foreach (var bracket in report.Brackets)
            {
                w.WriteStartObject();
                w.WriteStartArray("rungs");
                foreach (var rung in bracket.Rungs)
                {
                    w.WriteStartObject();
                    w.WriteNumber("configs", rung.Configs);
                    ResultJson.WriteNumber(w, "resource", rung.Resource);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (report.PlanResource is { } used)
            {
                w.WriteNumber("plan_resource", used);
            }

            if (report.FullResource is { } full)
            {
                w.WriteNumber("full_resource", full);
            }

            if (report.PlanNote is { } note)
            {
                w.WriteString("plan_note", note);
            }

            if (report.Warning is { } warning)
            {
                w.WriteString("warning", warning);
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
