namespace Tuner.Core.Experiments;

/// <summary>A trial's life, as in Ray: PENDING until it holds resources, RUNNING, PAUSED, then TERMINATED or ERROR.</summary>
public enum TrialStatus
{
    Pending,
    Running,
    Paused,
    Terminated,
    Error,
}

/// <summary>An experiment's state in <c>experiment.json</c>.</summary>
public enum ExperimentStatus
{
    Running,
    Completed,
    Stopped,
    Failed,
}

public static class StatusNames
{
    public static string ToWire(this TrialStatus status) => status.ToString().ToUpperInvariant();

    public static string ToWire(this ExperimentStatus status) => status.ToString().ToLowerInvariant();

    public static bool IsFinal(this TrialStatus status) => status is TrialStatus.Terminated or TrialStatus.Error;
}
