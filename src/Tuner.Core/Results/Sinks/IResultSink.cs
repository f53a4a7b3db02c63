using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Results.Sinks;

/// <summary>
/// Somewhere an experiment's results go besides its run folder's own files (Ray's logger callbacks):
/// TensorBoard event files, an MLflow server. Called by the experiment on its own thread, one call
/// at a time; a sink that can be slow (a network) queues and works in the background. A sink that
/// throws loses that record only: the experiment and its trials go on (see <see cref="ResultSinks"/>).
/// </summary>
public interface IResultSink : IAsyncDisposable
{
    /// <summary>The sink's name in logs and in the <c>tuner.sink.failures</c> metric.</summary>
    string Name { get; }

    /// <param name="resumed">True when the experiment goes on after a restart (its earlier records are already out).</param>
    void ExperimentStarted(string experimentId, ExperimentSpec spec, string runDirectory, DateTimeOffset at, bool resumed);

    void TrialCreated(string trialId, TrialConfig config, DateTimeOffset at);

    void Result(string trialId, TrialResult result);

    void TrialEnded(string trialId, TrialStatus status, DateTimeOffset at);

    /// <summary>With several objectives, the trials on the Pareto front as the experiment ends (before <see cref="ExperimentEndedAsync"/>).</summary>
    void ParetoFront(IReadOnlyList<string> trialIds)
    {
    }

    /// <summary>The experiment has ended (or stopped): write everything out.</summary>
    Task ExperimentEndedAsync(ExperimentStatus status, DateTimeOffset at);
}
