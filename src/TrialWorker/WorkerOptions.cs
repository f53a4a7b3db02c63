namespace Tuner.Worker;

/// <summary>What a worker announces: its id and the slots it offers (configuration section <c>Worker</c>).</summary>
public sealed class WorkerOptions : Tuner.Hosting.ISelfValidatingOptions
{
    public const string Section = "Worker";

    /// <summary>Every problem of these settings, each naming its setting.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(WorkerId))
        {
            problems.Add($"{Section}:WorkerId: must not be empty");
        }

        if (!(CpuSlots >= 0))
        {
            problems.Add($"{Section}:CpuSlots: must be 0 or more (it is {CpuSlots})");
        }

        if (Gpus < -1)
        {
            problems.Add($"{Section}:Gpus: must be 0 or more, or -1 to detect them (it is {Gpus})");
        }

        foreach (var (name, value) in new[] { ("HeartbeatInterval", HeartbeatInterval), ("GpuSampleInterval", GpuSampleInterval) })
        {
            if (value <= TimeSpan.Zero)
            {
                problems.Add($"{Section}:{name}: must be positive (it is {value})");
            }
        }

        foreach (var (name, value) in new[] { ("ShutdownGracePeriod", ShutdownGracePeriod), ("TrialStopGracePeriod", TrialStopGracePeriod) })
        {
            if (value < TimeSpan.Zero)
            {
                problems.Add($"{Section}:{name}: must not be negative (it is {value})");
            }
        }

        return problems;
    }

    public string WorkerId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>CPU slots for trials; each trial holds <c>resources.cpu</c> of them. Defaults to the core count.</summary>
    public double CpuSlots { get; set; } = Environment.ProcessorCount;

    /// <summary>GPUs for trials; when not set (negative), detected with nvidia-smi (none without it).</summary>
    public int Gpus { get; set; } = -1;

    /// <summary>Each GPU's memory in MiB, as detected (empty when configured or absent).</summary>
    public IReadOnlyList<int> GpuMemoryMb { get; set; } = [];

    /// <summary>The GPU count, detecting the machine's GPUs once when none was configured.</summary>
    public int ResolveGpus()
    {
        if (Gpus < 0)
        {
            var detected = Placement.GpuDetector.Detect(NvidiaSmi);
            Gpus = detected.Count;
            GpuMemoryMb = [.. detected.Select(g => g.MemoryMb)];
        }

        return Gpus;
    }

    /// <summary>The program that reports the machine's NVIDIA GPUs, their memory and load.</summary>
    public string NvidiaSmi { get; set; } = "nvidia-smi";

    /// <summary>How often the GPU load gauges sample nvidia-smi (at most; only while metrics are collected).</summary>
    public TimeSpan GpuSampleInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the worker re-announces itself, so a restarted scheduler learns of it again.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long running trials get to stop when the worker shuts down.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a trial process gets after SIGTERM to checkpoint and exit before SIGKILL.</summary>
    public TimeSpan TrialStopGracePeriod { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>
    /// The trial process program (<c>tuner-trial.dll</c>, run with this process's .NET host, or any
    /// executable); by default the one shipped with the worker, in its own folder (trial/) beside it.
    /// </summary>
    public string TrialProcessPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "trial", "tuner-trial.dll");

    /// <summary>The program and arguments that start a trial process.</summary>
    public (string Program, IReadOnlyList<string> Arguments) TrialProcessCommand()
    {
        if (!File.Exists(TrialProcessPath))
        {
            throw new FileNotFoundException($"the trial process program is missing: {TrialProcessPath} (WorkerOptions.TrialProcessPath)", TrialProcessPath);
        }

        if (!TrialProcessPath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            return (TrialProcessPath, []);
        }

        // The .NET host that runs this worker: <root>/shared/Microsoft.NETCore.App/<version>/ is the runtime folder.
        var runtime = System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();
        var root = Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
        var host = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return (File.Exists(host) ? host : "dotnet", ["exec", TrialProcessPath]);
    }
}
