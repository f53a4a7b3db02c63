namespace Tuner.Core.Trainables;

/// <summary>A parameter a trainable reads from its config.</summary>
/// <param name="Required">When true, the spec must give it in <c>space</c> or <c>params</c>.</param>
public sealed record TrainableParameter(string Name, bool Required, string Description);

/// <summary>What the registry knows of a trainable: its name, what it reports, what it reads, and how to make one.</summary>
/// <param name="AcceptsAnyParameters">True for stand-ins (sleep, noop) that take any search space and ignore what they do not read.</param>
/// <param name="RunsInChildProcess">
/// True for trainables that hold native resources (TorchSharp): the worker runs each trial in a child
/// process it supervises, so a crash, an out-of-memory or a hang ends that trial only.
/// </param>
public sealed record TrainableDescriptor(
    string Name,
    string Description,
    IReadOnlyList<string> Metrics,
    IReadOnlyList<TrainableParameter> Parameters,
    Func<ITrainable> Create,
    bool AcceptsAnyParameters = false,
    bool RunsInChildProcess = false);
