using Microsoft.Extensions.Logging;
using Tuner.Core.Experiments;
using Tuner.Core.Results.TensorBoard;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Telemetry;

namespace Tuner.Core.Results.Sinks;

/// <summary>
/// The sinks an experiment's spec asks for, called together. A sink that throws is counted
/// (<c>tuner.sink.failures</c>) and logged once per kind of failure; nothing it does fails a trial or the experiment.
/// </summary>
public sealed partial class ResultSinks(IReadOnlyList<IResultSink> sinks, string experimentId, ILogger logger) : IAsyncDisposable
{
    private readonly HashSet<(string, Type)> _logged = [];

    public IReadOnlyList<IResultSink> Sinks { get; } = sinks;

    /// <summary>TensorBoard unless <c>loggers.tensorboard: false</c>; MLflow when <c>loggers.mlflow</c> names a server.</summary>
    public static ResultSinks For(ExperimentSpec spec, string experimentId, ILogger logger, HttpMessageHandler? mlflowHandler = null, TimeProvider? time = null)
    {
        var sinks = new List<IResultSink>();
        if (spec.Loggers.TensorBoard)
        {
            sinks.Add(new TensorBoardSink());
        }

        if (spec.Loggers.Mlflow is { } mlflow)
        {
            sinks.Add(new MlflowSink(mlflow, logger, mlflowHandler, time));
        }

        return new ResultSinks(sinks, experimentId, logger);
    }

    public void ExperimentStarted(ExperimentSpec spec, string runDirectory, DateTimeOffset at, bool resumed) =>
        Each(s => s.ExperimentStarted(experimentId, spec, runDirectory, at, resumed));

    public void TrialCreated(string trialId, TrialConfig config, DateTimeOffset at) => Each(s => s.TrialCreated(trialId, config, at));

    public void Result(string trialId, TrialResult result) => Each(s => s.Result(trialId, result));

    public void TrialEnded(string trialId, TrialStatus status, DateTimeOffset at) => Each(s => s.TrialEnded(trialId, status, at));

    public void ParetoFront(IReadOnlyList<string> trialIds) => Each(s => s.ParetoFront(trialIds));

    public async Task ExperimentEndedAsync(ExperimentStatus status, DateTimeOffset at)
    {
        foreach (var sink in Sinks)
        {
            try
            {
                await sink.ExperimentEndedAsync(status, at).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Failed(sink, ex);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var sink in Sinks)
        {
            try
            {
                await sink.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Failed(sink, ex);
            }
        }
    }

    private void Each(Action<IResultSink> call)
    {
        foreach (var sink in Sinks)
        {
            try
            {
                call(sink);
            }
            catch (Exception ex)
            {
                Failed(sink, ex);
            }
        }
    }

    private void Failed(IResultSink sink, Exception ex)
    {
        TunerTelemetry.SinkFailures.Add(1, new KeyValuePair<string, object?>("sink", sink.Name), new KeyValuePair<string, object?>("experiment", experimentId));
        if (_logged.Add((sink.Name, ex.GetType())))
        {
            LogSinkFailed(logger, sink.Name, experimentId, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Sink} sink of experiment {ExperimentId} failed; the experiment goes on without those records (further failures like it are only counted)")]
    private static partial void LogSinkFailed(ILogger logger, string sink, string experimentId, Exception exception);
}
