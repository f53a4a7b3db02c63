using Tuner.Core.Spec;

namespace Tuner.Abstractions.Messages;

/// <summary>
/// The cluster refused an experiment's spec. Carries every problem (field path and message) across
/// the wire; <see cref="ToSpecException"/> turns it back into the core type.
/// </summary>
[GenerateSerializer, Alias("Tuner.ExperimentRejectedException")]
public sealed class ExperimentRejectedException : Exception
{
    public ExperimentRejectedException()
    {
    }

    public ExperimentRejectedException(string message)
        : base(message)
    {
    }

    public ExperimentRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ExperimentRejectedException(IReadOnlyList<SpecError> errors)
        : base(new SpecException(errors).Message)
    {
        Paths = errors.Select(e => e.Path).ToArray();
        Messages = errors.Select(e => e.Message).ToArray();
    }

    [Id(0)]
    public string[] Paths { get; init; } = [];

    [Id(1)]
    public string[] Messages { get; init; } = [];

    public SpecException ToSpecException() => new(Paths.Zip(Messages, (p, m) => new SpecError(p, m)).ToList());
}
