using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tuner.Core.Telemetry;

/// <summary>
/// The product's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>, and every instrument Tuner records. Names follow OpenTelemetry's conventions;
/// Prometheus sees them with dots as underscores, counters ending <c>_total</c> and units appended
/// (<c>tuner.decision.duration</c> in seconds is <c>tuner_decision_duration_seconds</c>).
/// </summary>
public static class TunerTelemetry
{
    public const string Name = "Tuner";

    public static readonly ActivitySource Source = new(Name, typeof(TunerTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(TunerTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Results recorded, per experiment (its rate is results per second).</summary>
    public static readonly Counter<long> Results = Meter.CreateCounter<long>("tuner.results", "{result}", "Results the experiments recorded");

    /// <summary>Decisions that stopped or paused a trial, per experiment, scheduler and action.</summary>
    public static readonly Counter<long> Decisions = Meter.CreateCounter<long>("tuner.decisions", "{decision}", "Trials stopped or paused by the early-stopping scheduler or a stop rule");

    /// <summary>How long the early-stopping scheduler took to decide on a result.</summary>
    public static readonly Histogram<double> DecisionDuration = Meter.CreateHistogram<double>(
        "tuner.decision.duration", "s", "Time the early-stopping scheduler took to decide on one result",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1] });

    /// <summary>Wall time of one training iteration (an epoch for the neural trainables), per experiment and worker.</summary>
    public static readonly Histogram<double> IterationDuration = Meter.CreateHistogram<double>(
        "tuner.trial.iteration.duration", "s", "Wall time of one training iteration (an epoch)",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });

    /// <summary>Checkpoints saved by workers, and how long each took.</summary>
    public static readonly Histogram<double> CheckpointDuration = Meter.CreateHistogram<double>(
        "tuner.checkpoint.duration", "s", "Time a worker took to save a trial's checkpoint",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30] });

    /// <summary>Records a result sink (TensorBoard, MLflow) could not write; the trial goes on.</summary>
    public static readonly Counter<long> SinkFailures = Meter.CreateCounter<long>("tuner.sink.failures", "{failure}", "Writes a result sink could not make");

    private static readonly ConcurrentDictionary<string, ExperimentGauges> Experiments = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, WorkerGauges> Workers = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<IEnumerable<GpuSample>>> GpuSources = new(StringComparer.Ordinal);
    private static long s_queueLength;

    static TunerTelemetry()
    {
        Meter.CreateObservableGauge("tuner.trials", ObserveTrials, "{trial}", "Trials of each experiment in each state");
        Meter.CreateObservableGauge("tuner.experiment.best", ObserveBest, description: "Best value of each experiment's metric so far");
        Meter.CreateObservableGauge("tuner.trial.metric", ObserveTrialMetrics, description: "Latest value of the experiment's metric per trial (the learning curves)");
        Meter.CreateObservableGauge("tuner.trial.iteration", ObserveTrialIterations, "{iteration}", "Latest training iteration per trial");
        Meter.CreateObservableGauge("tuner.queue.length", () => Interlocked.Read(ref s_queueLength), "{trial}", "Trials waiting for slots at the resource scheduler");
        Meter.CreateObservableGauge("tuner.worker.slots.used", () => ObserveSlots(used: true), "{slot}", "Slots held by trials per worker and resource (cpu, gpu)");
        Meter.CreateObservableGauge("tuner.worker.slots.capacity", () => ObserveSlots(used: false), "{slot}", "Slots each worker offers per resource (cpu, gpu)");
        Meter.CreateObservableGauge("tuner.gpu.utilization", () => ObserveGpus(memory: false), "1", "GPU busy fraction per worker and device, as nvidia-smi reports it");
        Meter.CreateObservableGauge("tuner.gpu.memory.usage", () => ObserveGpus(memory: true), "By", "GPU memory in use per worker and device");
    }

    /// <summary>The gauges of one experiment, created on first use; they live as long as the process.</summary>
    /// <summary>The gauges of an experiment, if it has any.</summary>
    public static ExperimentGauges? GaugesOf(string experimentId) => Experiments.GetValueOrDefault(experimentId);

    public static ExperimentGauges Experiment(string experimentId, string metric, bool minimize) =>
        Experiments.GetOrAdd(experimentId, id => new ExperimentGauges(id, metric, minimize));

    /// <summary>What the resource scheduler holds now.</summary>
    public static void SetQueueLength(long length) => Interlocked.Exchange(ref s_queueLength, length);

    /// <summary>One worker's slots as the resource scheduler sees them.</summary>
    public static void SetWorker(string workerId, double cpuUsed, double cpuCapacity, double gpuUsed, double gpuCapacity) =>
        Workers[workerId] = new WorkerGauges(cpuUsed, cpuCapacity, gpuUsed, gpuCapacity);

    public static void RemoveWorker(string workerId) => Workers.TryRemove(workerId, out _);

    /// <summary>Where the GPU gauges read a worker's devices from (its nvidia-smi sampler); null removes it.</summary>
    public static void SetGpuSource(string workerId, Func<IEnumerable<GpuSample>>? source)
    {
        if (source is null)
        {
            GpuSources.TryRemove(workerId, out _);
        }
        else
        {
            GpuSources[workerId] = source;
        }
    }

    /// <summary>Starts a span that is not the ambient one (an experiment's or trial's lifetime), leaving <see cref="Activity.Current"/> as it was.</summary>
    public static Activity? StartDetached(string name, ActivityKind kind, ActivityContext parent = default, IEnumerable<ActivityLink>? links = null)
    {
        if (!Source.HasListeners())
        {
            // Nothing records spans (no exporter configured): no span, and the ambient one is not touched.
            return null;
        }

        var previous = Activity.Current;
        var activity = parent == default
            ? Source.StartActivity(name, kind, previous?.Context ?? default, links: links)
            : Source.StartActivity(name, kind, parent, links: links);
        Activity.Current = previous;
        return activity;
    }

    /// <summary>Ends a detached span, leaving <see cref="Activity.Current"/> as it was (stopping one sets it to the span's parent).</summary>
    public static void End(Activity? activity)
    {
        if (activity is null)
        {
            return;
        }

        var current = Activity.Current;
        activity.Dispose();
        Activity.Current = current;
    }

    /// <summary>Makes <paramref name="activity"/> the ambient span until disposed (so logs written meanwhile carry its trace id).</summary>
    public static AmbientSpan Within(Activity? activity) => new(activity);

    /// <summary>A W3C traceparent of a span, to carry it in a message; null without one.</summary>
    public static string? TraceParent(Activity? activity) => activity?.Id is { } id && activity.IdFormat == ActivityIdFormat.W3C ? id : null;

    /// <summary>The span context a traceparent names; default when missing or malformed.</summary>
    public static ActivityContext Parse(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;

    private static IEnumerable<Measurement<long>> ObserveTrials()
    {
        foreach (var experiment in Experiments.Values)
        {
            foreach (var (state, count) in experiment.Counts())
            {
                yield return new Measurement<long>(count, new("experiment", experiment.Id), new("state", state));
            }
        }
    }

    private static IEnumerable<Measurement<double>> ObserveBest()
    {
        foreach (var experiment in Experiments.Values)
        {
            if (experiment.Best is { } best)
            {
                yield return new Measurement<double>(best, new("experiment", experiment.Id), new("metric", experiment.Metric), new("mode", experiment.Minimize ? "min" : "max"));
            }
        }
    }

    private static IEnumerable<Measurement<double>> ObserveTrialMetrics()
    {
        foreach (var experiment in Experiments.Values)
        {
            foreach (var (trial, latest) in experiment.Latest())
            {
                yield return new Measurement<double>(latest.Value, new("experiment", experiment.Id), new("trial", trial), new("metric", experiment.Metric));
            }
        }
    }

    private static IEnumerable<Measurement<long>> ObserveTrialIterations()
    {
        foreach (var experiment in Experiments.Values)
        {
            foreach (var (trial, latest) in experiment.Latest())
            {
                yield return new Measurement<long>(latest.Iteration, new("experiment", experiment.Id), new("trial", trial));
            }
        }
    }

    private static IEnumerable<Measurement<double>> ObserveSlots(bool used)
    {
        foreach (var (worker, slots) in Workers)
        {
            yield return new Measurement<double>(used ? slots.CpuUsed : slots.CpuCapacity, new("worker", worker), new("resource", "cpu"));
            yield return new Measurement<double>(used ? slots.GpuUsed : slots.GpuCapacity, new("worker", worker), new("resource", "gpu"));
        }
    }

    private static IEnumerable<Measurement<double>> ObserveGpus(bool memory)
    {
        foreach (var gpu in GpuSources.Values.SelectMany(source => source()))
        {
            yield return new Measurement<double>(memory ? gpu.MemoryUsedBytes : gpu.Utilization, new("worker", gpu.Worker), new("gpu", gpu.Device.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    private sealed record WorkerGauges(double CpuUsed, double CpuCapacity, double GpuUsed, double GpuCapacity);
}

/// <summary>Restores the ambient span on dispose; see <see cref="TunerTelemetry.Within"/>.</summary>
public readonly struct AmbientSpan : IDisposable
{
    private readonly Activity? _previous;
    private readonly bool _changed;

    internal AmbientSpan(Activity? activity)
    {
        _previous = Activity.Current;
        _changed = activity is not null;
        if (_changed)
        {
            Activity.Current = activity;
        }
    }

    public void Dispose()
    {
        if (_changed)
        {
            Activity.Current = _previous;
        }
    }
}

/// <summary>One GPU's load as a worker last sampled it.</summary>
public sealed record GpuSample(string Worker, int Device, double Utilization, double MemoryUsedBytes);

/// <summary>
/// What the observable gauges read of one experiment: trials per state, the best value, each trial's
/// latest metric and iteration. Written by the experiment grain, read by metric collection on
/// another thread.
/// </summary>
public sealed class ExperimentGauges(string id, string metric, bool minimize)
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    // Written by the experiment grain, read when metrics are collected: a plain dictionary under a lock (the writer is one thread).
    private readonly Dictionary<string, (double Value, long Iteration)> _latest = new(StringComparer.Ordinal);
    private double _best = double.NaN;

    public string Id { get; } = id;

    public string Metric { get; } = metric;

    public bool Minimize { get; } = minimize;

    /// <summary>The best value of the metric reported so far; null before any.</summary>
    public double? Best
    {
        get
        {
            var best = Volatile.Read(ref _best);
            return double.IsNaN(best) ? null : best;
        }
    }

    public void SetCount(string state, long count) => _counts[state] = count;

    /// <summary>A trial's latest value of the metric (NaN is kept as its latest, never as the best).</summary>
    public void SetLatest(string trialId, double value, long iteration)
    {
        lock (_latest)
        {
            _latest[trialId] = (value, iteration);
        }

        OfferBest(value);
    }

    /// <summary>A value that becomes the best if it beats it (NaN never does).</summary>
    public void OfferBest(double value)
    {
        var best = Volatile.Read(ref _best);
        if (!double.IsNaN(value) && (double.IsNaN(best) || (Minimize ? value < best : value > best)))
        {
            Volatile.Write(ref _best, value);
        }
    }

    /// <summary>The trial ended: it leaves the per-trial gauges (they hold running and paused trials, so they do not grow with finished ones).</summary>
    public void TrialEnded(string trialId)
    {
        lock (_latest)
        {
            _latest.Remove(trialId);
        }
    }

    /// <summary>Trials the per-trial gauges hold now.</summary>
    public int TrialsHeld
    {
        get
        {
            lock (_latest)
            {
                return _latest.Count;
            }
        }
    }

    public IEnumerable<KeyValuePair<string, long>> Counts() => _counts;

    public IEnumerable<KeyValuePair<string, (double Value, long Iteration)>> Latest()
    {
        lock (_latest)
        {
            return [.. _latest];
        }
    }
}
