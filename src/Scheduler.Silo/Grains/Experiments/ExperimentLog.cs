using Microsoft.Extensions.Logging;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>What the experiment grain tells operators: few lines, each an event of the experiment's life.</summary>
internal static partial class ExperimentLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {ExperimentId} ({Name}) started: {Trials} trials, results in {Directory}")]
    public static partial void Started(ILogger logger, string experimentId, string name, long trials, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {ExperimentId} ended {Status} ({Reason}): {Terminated} terminated, {Errors} errors")]
    public static partial void Ended(ILogger logger, string experimentId, string status, string? reason, int terminated, int errors);

    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {ExperimentId} resumed with {Trials} interrupted trial(s)")]
    public static partial void Resumed(ILogger logger, string experimentId, int trials);

    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {ExperimentId} extended from {From} to {To} samples; it goes on from its journal")]
    public static partial void Extended(ILogger logger, string experimentId, int from, int to);

    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {ExperimentId} restored from the journal in {Directory}: {Status}, {Trials} trials, {Requeued} requeued")]
    public static partial void Restored(ILogger logger, string experimentId, string directory, string status, int trials, int requeued);

    [LoggerMessage(Level = LogLevel.Error, Message = "Experiment {ExperimentId} could not be restored from the journal in {Directory}")]
    public static partial void RestoreFailed(ILogger logger, string experimentId, string directory, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Experiment {ExperimentId} could not write its results")]
    public static partial void WriteFailed(ILogger logger, string experimentId, Exception exception);
}
