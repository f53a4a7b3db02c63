using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Tuner.Hosting;

/// <summary>Options that check themselves: each problem is a sentence that starts with the setting it is about.</summary>
public interface ISelfValidatingOptions
{
    IReadOnlyList<string> Problems();
}

/// <summary>Runs an options class's own checks for the options system (<see cref="ISelfValidatingOptions.Problems"/>).</summary>
public sealed class SelfValidatingOptionsValidator<T> : IValidateOptions<T>
    where T : class, ISelfValidatingOptions
{
    public ValidateOptionsResult Validate(string? name, T options) =>
        options.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}

public static class ValidatedOptionsExtensions
{
    /// <summary>
    /// <typeparamref name="T"/> bound from configuration section <paramref name="section"/>, checked by its own rules when the
    /// host starts (<c>ValidateOnStart</c>): a host with a bad setting does not start, and says which.
    /// </summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, string section)
        where T : class, ISelfValidatingOptions
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, SelfValidatingOptionsValidator<T>>());
        return services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>As above, configured in code rather than bound from a section.</summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, Action<T>? configure)
        where T : class, ISelfValidatingOptions
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, SelfValidatingOptionsValidator<T>>());
        var builder = services.AddOptions<T>().ValidateOnStart();
        return configure is null ? builder : builder.Configure(configure);
    }

    /// <summary>
    /// Builds and runs a host (<paramref name="run"/>); a setting refused while it is built or when it starts is printed, each
    /// problem naming its setting, and the exit code is 2 (0 once the host has run and stopped).
    /// </summary>
    public static async Task<int> RunOrExplainAsync(Func<Task> run, TextWriter? error = null)
    {
        try
        {
            await run();
            return 0;
        }
        catch (Exception ex) when (Failures(ex) is { Count: > 0 } failures)
        {
            await (error ?? Console.Error).WriteLineAsync("error: invalid settings:\n  " + string.Join("\n  ", failures));
            return 2;
        }
    }

    /// <summary>Every failure of the options refused in <paramref name="exception"/> (a host's start refuses all of them at once, in an <see cref="AggregateException"/>); empty for any other exception.</summary>
    public static IReadOnlyList<string> Failures(Exception exception) => exception switch
    {
        OptionsValidationException refused => [.. refused.Failures],
        AggregateException all when all.InnerExceptions.All(e => e is OptionsValidationException) => [.. all.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures)],
        _ => [],
    };
}
