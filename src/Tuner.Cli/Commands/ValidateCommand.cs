using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Core.Search;

namespace Tuner.Cli.Commands;

/// <summary><c>tuner validate SPEC</c>: checks a spec and says how many trials it makes.</summary>
public sealed class ValidateCommand(IAnsiConsole console) : Command<ValidateCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<SPEC>")]
        [Description("The experiment spec, a YAML file")]
        public string Spec { get; init; } = string.Empty;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var spec = SpecLoader.TryLoad(settings.Spec, console);
        if (spec is null)
        {
            return ExitCodes.InvalidInput;
        }

        console.MarkupLineInterpolated($"[green]valid:[/] {spec.Name}: trainable {spec.Trainable}, {spec.Search.Algorithm} search, {VariantGenerator.CountTrials(spec):N0} trials over {spec.Space.Count} dimensions, {string.Join(", ", spec.Objectives.Select(o => $"{o.Mode.ToString().ToLowerInvariant()} {o.Metric}"))}");
        return ExitCodes.Success;
    }
}
