using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Data.Cache;

namespace Tuner.Cli.Commands;

/// <summary>What the commands that run on an embedded scheduler and worker (<c>run</c>, <c>extend</c>) share: its slots, the data cache, and the output.</summary>
public abstract class EmbeddedSettings : CommandSettings
{
    [CommandOption("--cpus <N>")]
    [Description("CPU slots the embedded worker offers (default: the number of cores)")]
    public double? Cpus { get; init; }

    [CommandOption("--gpus <N>")]
    [Description("GPUs the embedded worker offers (default 0)")]
    public int Gpus { get; init; }

    [CommandOption("--data-dir <DIR>")]
    [Description("The data-set cache trials read (and download into); default $TUNER_DATA_DIR, else ~/.cache/tuner/data")]
    public string? DataDir { get; init; }

    [CommandOption("-q|--quiet")]
    [Description("No live table; print the summary only")]
    public bool Quiet { get; init; }

    [CommandOption("-v|--verbose")]
    [Description("Show the cluster's informational logs")]
    public bool Verbose { get; init; }

    public override ValidationResult Validate() =>
        Cpus is <= 0 ? ValidationResult.Error("--cpus must be above zero")
        : Gpus < 0 ? ValidationResult.Error("--gpus must be zero or more")
        : ValidationResult.Success();

    /// <summary>Trial processes inherit the data cache from the environment.</summary>
    public void ApplyDataDir()
    {
        if (DataDir is { } dataDir)
        {
            Environment.SetEnvironmentVariable(DataCache.EnvironmentVariable, Path.GetFullPath(dataDir));
        }
    }
}
