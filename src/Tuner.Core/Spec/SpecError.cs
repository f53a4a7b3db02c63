namespace Tuner.Core.Spec;

/// <summary>One problem with a spec: the field path (<c>space.x1.uniform</c>), what is wrong and what is allowed.</summary>
/// <param name="Line">The 1-based line in the YAML file, when the spec came from one.</param>
public sealed record SpecError(string Path, string Message, int? Line = null)
{
    public override string ToString() => Line is { } line ? $"{Path}: {Message} (line {line})" : $"{Path}: {Message}";
}

/// <summary>Thrown when a spec is invalid; carries every problem found, not only the first.</summary>
public sealed class SpecException : Exception
{
    public SpecException(IReadOnlyList<SpecError> errors)
        : base(Describe(errors))
    {
        Errors = errors;
    }

    public SpecException(string path, string message)
        : this([new SpecError(path, message)])
    {
    }

    public IReadOnlyList<SpecError> Errors { get; }

    private static string Describe(IReadOnlyList<SpecError> errors) =>
        errors.Count == 1 ? $"invalid spec: {errors[0]}" : $"invalid spec ({errors.Count} problems):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors);
}
