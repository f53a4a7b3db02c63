namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>What the experiment grain keeps in grain storage: where its run folder (and journal) is.</summary>
[GenerateSerializer, Alias("Tuner.ExperimentLocation")]
public sealed class ExperimentLocation
{
    [Id(0)]
    public string? RunDirectory { get; set; }

    /// <summary>A command trainable's environment values (secrets), which the journal holds redacted.</summary>
    [Id(1)]
    public Dictionary<string, string>? Secrets { get; set; }
}
