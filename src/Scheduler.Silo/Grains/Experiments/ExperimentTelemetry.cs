using System.Diagnostics;
using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Schedulers;
using Tuner.Core.Spec;
using Tuner.Core.Telemetry;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>
/// One experiment's spans and metrics: the experiment's span, a span per trial's life (its context goes to the
/// workers in the assignment), the decision, result and iteration-time instruments, and the experiment's gauges.
/// </summary>
internal sealed class ExperimentTelemetry(string experimentId, ExperimentSpec spec)
{
    private readonly Dictionary<string, Activity> _trialSpans = new(StringComparer.Ordinal);
    private readonly KeyValuePair<string, object?> _experimentTag = new("experiment", experimentId);

    // The gauges' counts by state, kept in step with the controller's as events are applied.
    private readonly Dictionary<TrialStatus, int> _counts = [];
    private ExperimentGauges? _gauges;

    public Activity? Span { get; private set; }

    /// <summary>The experiment's gauges, filled with what it has so far (a restored experiment has trials already).</summary>
    public void AttachGauges(ExperimentController controller)
    {
        var gauges = _gauges = TunerTelemetry.Experiment(experimentId, spec.Metric, spec.Mode == OptimizationMode.Min);
        _counts.Clear();
        foreach (var (status, count) in controller.Counts)
        {
            _counts[status] = count;
            gauges.SetCount(status.ToWire(), count);
        }

        foreach (var value in controller.EndedMetrics)
        {
            gauges.OfferBest(value);
        }

        foreach (var trial in controller.Open)
        {
            if (trial.LastMetric is { } value)
            {
                gauges.SetLatest(trial.TrialId, value, trial.Iteration);
            }
        }
    }

    /// <summary>The experiment's span (a child of the caller's, e.g. the client's submit).</summary>
    public void BeginSpan(string name)
    {
        Span = TunerTelemetry.StartDetached($"{name} {spec.Name}", ActivityKind.Internal)
            ?.SetTag("tuner.experiment.id", experimentId)
            .SetTag("tuner.experiment.name", spec.Name)
            .SetTag("tuner.searcher", spec.Search.Algorithm)
            .SetTag("tuner.scheduler", spec.Scheduler.Algorithm)
            .SetTag("tuner.metric", spec.Metric)
            .SetTag("tuner.mode", spec.Mode.ToString().ToLowerInvariant());
    }

    /// <summary>The experiment's end on its span.</summary>
    public void EndSpan(ExperimentController controller)
    {
        if (Span is not { } span)
        {
            return;
        }

        span.SetTag("tuner.experiment.status", controller.Status.ToWire()).SetTag("tuner.trials", controller.Trials.Count);
        if (controller.Best() is { } best)
        {
            span.SetTag("tuner.best.trial", best.TrialId).SetTag("tuner.best.value", best.LastMetric);
        }

        if (controller.Status == ExperimentStatus.Failed)
        {
            span.SetStatus(ActivityStatusCode.Error, controller.StatusReason);
        }

        TunerTelemetry.End(span);
        Span = null;
    }

    /// <summary>The span of a trial's life (every run of it, on whichever worker); its W3C trace parent, for the assignment.</summary>
    public string? TrialTraceParent(TrialRecord trial)
    {
        if (!_trialSpans.TryGetValue(trial.TrialId, out var span)
            && TunerTelemetry.StartDetached($"trial {trial.TrialId}", ActivityKind.Internal, Span?.Context ?? default) is { } started)
        {
            span = _trialSpans[trial.TrialId] = started;
            started.SetTag("tuner.experiment.id", experimentId).SetTag("tuner.trial.id", trial.TrialId);
            foreach (var (name, value) in trial.Config)
            {
                started.SetTag("tuner.param." + name, value.ToDisplayString());
            }
        }

        return TunerTelemetry.TraceParent(span);
    }

    public Activity? TrialSpan(string trialId) => _trialSpans.GetValueOrDefault(trialId);

    public void TrialRunning(string trialId, string workerId, int attempt) =>
        TrialSpan(trialId)?.SetTag("tuner.worker", workerId).AddEvent(new ActivityEvent("running", tags: new ActivityTagsCollection { ["tuner.worker"] = workerId, ["tuner.trial.attempt"] = attempt }));

    /// <summary>The metrics of an event about to be applied (<paramref name="trial"/> as it was).</summary>
    public void OnEvent(ExperimentEvent e, TrialRecord? trial)
    {
        switch (e.Kind)
        {
            case ExperimentEventKind.TrialCreated:
                _gauges?.SetCount(TrialStatus.Pending.ToWire(), Count(TrialStatus.Pending, +1));
                break;
            case ExperimentEventKind.TrialStatus when trial is not null && e.TrialStatus is { } status:
                _gauges?.SetCount(trial.Status.ToWire(), Count(trial.Status, -1));
                _gauges?.SetCount(status.ToWire(), Count(status, +1));
                if (status.IsFinal())
                {
                    // The per-trial gauges cover live trials only: an ended trial's last value is in experiment.json and the best gauge.
                    _gauges?.TrialEnded(trial.TrialId);
                    EndTrialSpan(trial, status, e.Message);
                }

                break;
            case ExperimentEventKind.Result when trial is not null:
                var result = e.Result!;
                TunerTelemetry.Results.Add(1, _experimentTag);
                if (trial.LastResult is { } previous && previous.TrainingIteration == result.TrainingIteration - 1 && result.TimeTotalS >= previous.TimeTotalS)
                {
                    TunerTelemetry.IterationDuration.Record(result.TimeTotalS - previous.TimeTotalS, _experimentTag, new KeyValuePair<string, object?>("worker", trial.Worker ?? "unknown"));
                }

                if (result.GetMetric(spec.Metric) is { } value)
                {
                    _gauges?.SetLatest(trial.TrialId, value, result.TrainingIteration);
                }

                break;
            case ExperimentEventKind.Decision when trial is not null:
                TunerTelemetry.Decisions.Add(1, _experimentTag, new KeyValuePair<string, object?>("scheduler", spec.Scheduler.Algorithm), new KeyValuePair<string, object?>("action", e.Action));
                TrialSpan(trial.TrialId)?.AddEvent(new ActivityEvent(e.Action!, tags: new ActivityTagsCollection { ["tuner.trial.iteration"] = trial.Iteration, ["tuner.decision.reason"] = e.Message }));
                break;
        }
    }

    /// <summary>The controller's decision on a result, begun at <paramref name="started"/> (a <see cref="Stopwatch"/> timestamp): a span under the trial's, and the decision histogram.</summary>
    public void Decided(TrialRecord? trial, SchedulerAction action, long started)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        var name = action switch { SchedulerAction.Stop => "stop", SchedulerAction.Pause => "pause", _ => "continue" };
        TunerTelemetry.DecisionDuration.Record(
            elapsed.TotalSeconds,
            _experimentTag,
            new KeyValuePair<string, object?>("scheduler", spec.Scheduler.Algorithm),
            new KeyValuePair<string, object?>("action", name));
        if (TunerTelemetry.StartDetached("scheduler.decide", ActivityKind.Internal, trial is null ? default : TrialSpan(trial.TrialId)?.Context ?? default) is not { } span)
        {
            return;
        }

        span.SetStartTime(span.StartTimeUtc - elapsed);
        span.SetTag("tuner.experiment.id", experimentId).SetTag("tuner.trial.id", trial?.TrialId).SetTag("tuner.trial.iteration", trial?.Iteration)
            .SetTag("tuner.scheduler", spec.Scheduler.Algorithm).SetTag("tuner.decision", name).SetTag("tuner.metric.value", trial?.LastMetric);
        if (trial?.LastDecision is { } last && last.Iteration == trial.Iteration && name != "continue")
        {
            span.SetTag("tuner.decision.reason", last.Reason);
        }

        TunerTelemetry.End(span);
    }

    private int Count(TrialStatus status, int delta) => _counts[status] = _counts.GetValueOrDefault(status) + delta;

    private void EndTrialSpan(TrialRecord trial, TrialStatus status, string? reason)
    {
        if (!_trialSpans.Remove(trial.TrialId, out var span))
        {
            return;
        }

        span.SetTag("tuner.trial.status", status.ToWire()).SetTag("tuner.trial.iterations", trial.Iteration);
        if (trial.LastMetric is { } last)
        {
            span.SetTag("tuner.metric.value", last);
        }

        if (status == TrialStatus.Error)
        {
            span.SetStatus(ActivityStatusCode.Error, reason);
        }

        TunerTelemetry.End(span);
    }
}
