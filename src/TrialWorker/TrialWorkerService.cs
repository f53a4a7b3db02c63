using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Worker.Placement;

namespace Tuner.Worker;

/// <summary>
/// The worker's presence in the cluster: announces its slots to the resource scheduler with an
/// observer reference to itself, re-announces on a heartbeat, runs granted trials in the
/// background and cancels them on request or at shutdown.
/// </summary>
public sealed partial class TrialWorkerService(
    IGrainFactory grains,
    TrialRunner runner,
    Plugins.TrainableAssemblyCache assemblies,
    WorkerOptions options,
    TimeProvider time,
    ILogger<TrialWorkerService> logger) : BackgroundService, ITrialWorker
{
    private readonly ConcurrentDictionary<string, Running> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly GpuAllocator _gpus = new(options.ResolveGpus());
    private ITrialWorker? _self;
    private volatile bool _draining;

    public WorkerInfo Info { get; } = new(options.WorkerId, options.CpuSlots, options.ResolveGpus(), Environment.MachineName, options.GpuMemoryMb);

    private IResourceSchedulerGrain Scheduler => grains.GetGrain<IResourceSchedulerGrain>(IResourceSchedulerGrain.ClusterKey);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _self = grains.CreateObjectReference<ITrialWorker>(this);
        if (Info.Gpus > 0)
        {
            // The GPU gauges: nvidia-smi sampled when metrics are collected, at most once per interval.
            var sampler = new CachedSample<IReadOnlyList<Tuner.Core.Telemetry.GpuSample>>(() => GpuDetector.Sample(Info.WorkerId, options.NvidiaSmi), options.GpuSampleInterval, time);
            Tuner.Core.Telemetry.TunerTelemetry.SetGpuSource(Info.WorkerId, sampler.Get);
        }

        try
        {
            await Scheduler.RegisterWorkerAsync(Info, _self);
        }
        catch (Exception ex) when (ex is ArgumentException or OrleansException or TimeoutException)
        {
            // The scheduler silo is not known yet (a worker started first, or the cluster's manifest has
            // not reached this silo): the heartbeat registers the worker as soon as it is.
            LogHeartbeatFailed(logger, Info.WorkerId, ex.Message);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await Scheduler.RegisterWorkerAsync(Info, _self!);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogHeartbeatFailed(logger, Info.WorkerId, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public Task StartTrialAsync(TrialAssignment assignment)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        var running = new Running(cancellation, assignment.Attempt);
        if (_running.TryGetValue(assignment.TrialKey, out var earlier) && earlier.Attempt >= assignment.Attempt)
        {
            cancellation.Dispose();
            throw new InvalidOperationException($"trial {assignment.TrialKey} is already running on worker {Info.WorkerId} (attempt {earlier.Attempt})");
        }

        if (earlier is not null)
        {
            // A run the trial has moved past (from before the scheduler restarted): it stops; the new one takes its place.
            Cancel(earlier);
        }

        _running[assignment.TrialKey] = running;
        var placementKey = $"{assignment.TrialKey}#{assignment.Attempt}";

        running.Task = Task.Run(async () =>
        {
            TrialOutcome outcome;
            try
            {
                var placement = _gpus.Allocate(placementKey, assignment.Resources.Cpu, assignment.Resources.Gpu, assignment.GpuDevices);
                outcome = await runner.RunAsync(assignment, Info.WorkerId, placement, cancellation.Token, () => _draining && !running.StopRequested);
                if (outcome.Kind == TrialOutcomeKind.Stopped && _draining && !running.StopRequested)
                {
                    outcome = outcome with { Kind = TrialOutcomeKind.HandedBack, Error = $"handed back by worker {Info.WorkerId}, which is stopping" };
                }
            }
            catch (InvalidOperationException ex)
            {
                outcome = new TrialOutcome(TrialOutcomeKind.Failed, ex.Message, assignment.RestoreFrom?.Iteration ?? 0);
            }
            finally
            {
                _gpus.Release(placementKey);
                _running.TryRemove(KeyValuePair.Create(assignment.TrialKey, running));
                cancellation.Dispose();
            }

            await runner.ReportOutcomeAsync(assignment, outcome);
        });
        return Task.CompletedTask;
    }

    public Task ExperimentEndedAsync(string experimentId)
    {
        assemblies.ExperimentEnded(experimentId);
        return Task.CompletedTask;
    }

    public Task StopTrialAsync(string trialKey, string reason)
    {
        if (_running.TryGetValue(trialKey, out var running))
        {
            Cancel(running);
        }

        return Task.CompletedTask;
    }

    private static void Cancel(Running running)
    {
        running.StopRequested = true;
        try
        {
            running.Cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It ended on its own meanwhile.
        }
    }

    /// <summary>
    /// Drains: no new trials (the worker leaves the resource scheduler first), then every running trial
    /// checkpoints and is handed back, to continue on another worker.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Scheduler.UnregisterWorkerAsync(Info.WorkerId);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogHeartbeatFailed(logger, Info.WorkerId, ex.Message);
        }

        _draining = true;
        await _shutdown.CancelAsync();
        var tasks = _running.Values.Select(r => r.Task).OfType<Task>().ToArray();
        await Task.WhenAny(Task.WhenAll(tasks), Task.Delay(options.ShutdownGracePeriod, time, cancellationToken));

        if (_self is not null)
        {
            grains.DeleteObjectReference<ITrialWorker>(_self);
        }

        Tuner.Core.Telemetry.TunerTelemetry.SetGpuSource(Info.WorkerId, null);
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _shutdown.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId} could not reach the resource scheduler: {Error}")]
    private static partial void LogHeartbeatFailed(ILogger logger, string workerId, string error);

    private sealed class Running(CancellationTokenSource cancellation, int attempt)
    {
        public CancellationTokenSource Cancellation { get; } = cancellation;

        public int Attempt { get; } = attempt;

        public Task? Task { get; set; }

        /// <summary>The trial was stopped on request (a decision), not by the worker's drain.</summary>
        public volatile bool StopRequested;
    }
}
