using System.ComponentModel;
using Grpc.Core;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Abstractions.Messages;
using Tuner.Client;
using Tuner.Core.Spec;

namespace Tuner.Cli.Commands.Remote;

/// <summary>Options of every command that talks to a Scheduler.Silo.</summary>
public class RemoteSettings : CommandSettings
{
    [CommandOption("--server <URL>")]
    [Description("The Scheduler.Silo's API (default $TUNER_SERVER, else http://127.0.0.1:5080)")]
    public string? Server { get; init; }

    [CommandOption("--api-key <KEY>")]
    [Description("The API key, when the service requires one (default $TUNER_API_KEY; the variable keeps it out of shell history)")]
    public string? ApiKey { get; init; }

    public Uri ServerAddress => new(Server ?? Environment.GetEnvironmentVariable("TUNER_SERVER") ?? "http://127.0.0.1:5080");

    public override ValidationResult Validate() =>
        Uri.TryCreate(Server ?? Environment.GetEnvironmentVariable("TUNER_SERVER") ?? "http://127.0.0.1:5080", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? ValidationResult.Success()
            : ValidationResult.Error($"--server: '{Server}' is not an http(s) URL such as http://127.0.0.1:5080");
}

/// <summary>A command over <see cref="TunerClient"/>: the service's refusals become messages and exit codes.</summary>
public abstract class RemoteCommand<TSettings>(IAnsiConsole console) : AsyncCommand<TSettings>
    where TSettings : RemoteSettings
{
    protected IAnsiConsole Console { get; } = console;

    public sealed override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        using var client = new TunerClient(new TunerClientOptions
        {
            Address = settings.ServerAddress,
            ApiKey = settings.ApiKey ?? Environment.GetEnvironmentVariable("TUNER_API_KEY"),
            MaxAttempts = 3,
        });
        try
        {
            return await ExecuteAsync(client, settings, cancellationToken);
        }
        catch (SpecException ex)
        {
            SpecLoader.PrintErrors(Console, "the request", ex.Errors);
            return ExitCodes.InvalidInput;
        }
        catch (TunerRequestException ex)
        {
            Console.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (TunerUnavailableException ex)
        {
            Console.MarkupLineInterpolated($"[red]error:[/] cannot reach the Tuner service at {settings.ServerAddress}: {ex.Message}. Start Scheduler.Silo or pass --server.");
            return ExitCodes.RuntimeFailure;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
        {
            Console.MarkupLineInterpolated($"[red]error:[/] {ex.Status.Detail} (pass --api-key or set TUNER_API_KEY)");
            return ExitCodes.InvalidInput;
        }
        catch (RpcException ex)
        {
            Console.MarkupLineInterpolated($"[red]error:[/] the service answered {ex.StatusCode}: {ex.Status.Detail}");
            return ExitCodes.RuntimeFailure;
        }
    }

    protected abstract Task<int> ExecuteAsync(TunerClient client, TSettings settings, CancellationToken cancellationToken);
}

/// <summary>Settings of the commands about one experiment.</summary>
public class ExperimentSettings : RemoteSettings
{
    [CommandArgument(0, "<EXPERIMENT>")]
    [Description("The experiment's id (see tuner status)")]
    public string ExperimentId { get; init; } = string.Empty;
}
