namespace Tuner.Embedded;

/// <summary>How the in-process cluster is set up.</summary>
public sealed class EmbeddedTunerOptions
{
    /// <summary>CPU slots the embedded worker offers (default: one per core).</summary>
    public double CpuSlots { get; set; } = Environment.ProcessorCount;

    /// <summary>GPUs the embedded worker offers.</summary>
    public int Gpus { get; set; }

    /// <summary>The least severe Orleans and Tuner log level written to the console; operators' logs stay quiet by default.</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Warning;

    /// <summary>More logging setup (a provider of one's own, filters), applied after the console logger.</summary>
    public Action<Microsoft.Extensions.Logging.ILoggingBuilder>? ConfigureLogging { get; set; }
}
