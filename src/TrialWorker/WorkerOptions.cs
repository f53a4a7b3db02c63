namespace Tuner.Worker;

/// <summary>What a worker announces: its id and the slots it offers.</summary>
public sealed class WorkerOptions
{
    public string WorkerId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>CPU slots for trials; each trial holds <c>resources.cpu</c> of them. Defaults to the core count.</summary>
    public double CpuSlots { get; set; } = Environment.ProcessorCount;

    public int Gpus { get; set; }

    /// <summary>How often the worker re-announces itself, so a restarted scheduler learns of it again.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long running trials get to stop when the worker shuts down.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(10);
}
