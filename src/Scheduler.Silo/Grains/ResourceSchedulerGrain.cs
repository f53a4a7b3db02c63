using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Abstractions.Placement;
using Tuner.Core.Telemetry;
using Tuner.Scheduler.Hosting;

namespace Tuner.Scheduler.Grains;

/// <summary>
/// The cluster's resource scheduler: trials wait for slots in one queue per experiment, granted fairly
/// between experiments (<see cref="FairQueue{T}"/>), each to the worker with the most free CPU that fits it. A grant
/// starts the trial on that worker directly through its observer reference.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class ResourceSchedulerGrain(ResourceSchedulerOptions options, TimeProvider time, ILogger<ResourceSchedulerGrain> logger) : Grain, IResourceSchedulerGrain
{
    private const double Epsilon = 1e-9;
    private readonly Dictionary<string, Worker> _workers = new(StringComparer.Ordinal);
    private readonly FairQueue<TrialAssignment> _queue = new(static a => a.TrialKey, static a => a.ExperimentId);
    private readonly HashSet<string> _published = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Grant> _grants = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A worker that stops announcing itself is gone (killed, partitioned): its trials go elsewhere.
        this.RegisterGrainTimer(static (grain, _) => grain.ExpireWorkersAsync(), this, new GrainTimerCreationOptions(options.LeaseCheckInterval, options.LeaseCheckInterval));
        return base.OnActivateAsync(cancellationToken);
    }

    /// <summary>
    /// Forgets workers not heard from within the lease, and fails the trials they held: each trial
    /// grain retries from its last checkpoint on another worker while its failure limit allows.
    /// </summary>
    private async Task ExpireWorkersAsync()
    {
        var lost = _workers.Values.Where(w => time.GetElapsedTime(w.LastSeen) > options.WorkerLease).ToList();
        foreach (var worker in lost)
        {
            _workers.Remove(worker.Info.WorkerId);
            var held = _grants.Where(g => g.Value.WorkerId == worker.Info.WorkerId).ToList();
            LogWorkerExpired(logger, worker.Info.WorkerId, options.WorkerLease.TotalSeconds, held.Count);
            foreach (var (key, grant) in held)
            {
                _grants.Remove(key);
                _queue.Released(grant.Assignment.ExperimentId);
                var reason = $"worker {worker.Info.WorkerId} on {worker.Info.Host} was lost: no heartbeat for {options.WorkerLease.TotalSeconds:0.#} s";

                // One-way: the trial grain calls back here (release, resubmit) before it would answer.
                await grant.Assignment.Trial.RunFailedAsync(new TrialOutcome(TrialOutcomeKind.Failed, reason, grant.Assignment.RestoreFrom?.Iteration ?? 0, grant.Assignment.Attempt));
            }
        }

        if (lost.Count > 0)
        {
            await DispatchAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId} missed its lease of {LeaseS} s and was removed; its {Trials} trial(s) are retried elsewhere")]
    private static partial void LogWorkerExpired(ILogger logger, string workerId, double leaseS, int trials);

    public async Task RegisterWorkerAsync(WorkerInfo info, ITrialWorker worker)
    {
        if (_workers.TryGetValue(info.WorkerId, out var existing))
        {
            existing.Reference = worker;
            existing.Info = info;
            existing.LastSeen = time.GetTimestamp();
        }
        else
        {
            _workers[info.WorkerId] = new Worker(info, worker) { LastSeen = time.GetTimestamp() };
            LogWorkerJoined(logger, info.WorkerId, info.Host, info.CpuSlots, info.Gpus, info.GpuMemoryMb is { Count: > 0 } memory ? $" ({string.Join(", ", memory.Select(m => $"{m} MiB"))})" : string.Empty);
        }

        await DispatchAsync();
    }

    public Task UnregisterWorkerAsync(string workerId)
    {
        _workers.Remove(workerId);
        Publish();
        return Task.CompletedTask;
    }

    public async Task SubmitAsync(TrialAssignment assignment)
    {
        if (_queue.Contains(assignment.TrialKey) || _grants.ContainsKey(assignment.TrialKey))
        {
            throw new InvalidOperationException($"trial {assignment.TrialKey} is already queued or running");
        }

        _queue.Enqueue(assignment);
        await DispatchAsync();
    }

    public async Task ReleaseAsync(string trialKey)
    {
        if (_grants.Remove(trialKey, out var grant))
        {
            _queue.Released(grant.Assignment.ExperimentId);
            if (_workers.TryGetValue(grant.WorkerId, out var worker))
            {
                worker.CpuUsed = Math.Max(0, worker.CpuUsed - grant.Cpu);
                worker.Gpus.Release(trialKey);
                worker.Trials--;
            }
        }

        await DispatchAsync();
    }

    public async Task<bool> CancelAsync(string trialKey, string reason)
    {
        if (_queue.Remove(trialKey))
        {
            return true;
        }

        if (_grants.TryGetValue(trialKey, out var grant) && _workers.TryGetValue(grant.WorkerId, out var worker))
        {
            await worker.Reference.StopTrialAsync(trialKey, reason);
        }

        return false;
    }

    public async Task ExperimentEndedAsync(string experimentId)
    {
        foreach (var worker in _workers.Values.ToList())
        {
            try
            {
                await worker.Reference.ExperimentEndedAsync(experimentId);
            }
            catch (Exception ex)
            {
                LogNotifyFailed(logger, worker.Info.WorkerId, experimentId, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId} did not hear that experiment {ExperimentId} ended")]
    private static partial void LogNotifyFailed(ILogger logger, string workerId, string experimentId, Exception exception);

    public Task<ClusterResources> GetResourcesAsync() => Task.FromResult(new ClusterResources(
        _workers.Values.Select(w => new WorkerUsage(w.Info, w.CpuUsed, w.GpuUsed, w.Trials)).ToList(),
        _queue.Count));

    /// <summary>
    /// Grants slots to queued trials, fairly between experiments: the next grant goes to the queued trial
    /// (that fits somewhere) of the experiment holding the fewest grants, in arrival order within it; one
    /// experiment's backlog never starves another's, and a trial that fits no worker now waits without
    /// holding up the smaller ones behind it.
    /// </summary>
    private Task DispatchAsync()
    {
        while (_queue.Next(Place) is { } pick)
        {
            var (request, worker) = pick;

            // The devices are chosen here, per device, and the worker binds the trial to exactly these.
            request = request with { GpuDevices = worker.Gpus.Reserve(request.TrialKey, request.Resources.Gpu) };
            _grants[request.TrialKey] = new Grant(worker.Info.WorkerId, request.Resources.Cpu, request);
            worker.CpuUsed += request.Resources.Cpu;
            worker.Trials++;

            // Not awaited: grants go out together, each answer handled when it comes. The grant's span is
            // the ambient one of the start call, so Orleans carries it to the worker (whose run links it).
            var span = TunerTelemetry.StartDetached("scheduler.dispatch", ActivityKind.Producer, TunerTelemetry.Parse(request.TraceParent))
                ?.SetTag("tuner.experiment.id", request.ExperimentId)
                .SetTag("tuner.trial.id", request.TrialId)
                .SetTag("tuner.trial.attempt", request.Attempt)
                .SetTag("tuner.worker", worker.Info.WorkerId)
                .SetTag("tuner.gpus", request.GpuDevices is { Count: > 0 } devices ? string.Join(",", devices) : null);
            using (TunerTelemetry.Within(span))
            {
                ObserveStartAsync(worker, request).Ignore();
            }

            TunerTelemetry.End(span);
        }

        Publish();
        return Task.CompletedTask;
    }

    /// <summary>The queue and every worker's slots, for the gauges.</summary>
    private void Publish()
    {
        TunerTelemetry.SetQueueLength(_queue.Count);
        foreach (var gone in _published.Where(id => !_workers.ContainsKey(id)).ToList())
        {
            TunerTelemetry.RemoveWorker(gone);
            _published.Remove(gone);
        }

        foreach (var worker in _workers.Values)
        {
            TunerTelemetry.SetWorker(worker.Info.WorkerId, worker.CpuUsed, worker.Info.CpuSlots, worker.GpuUsed, worker.Info.Gpus);
            _published.Add(worker.Info.WorkerId);
        }
    }

    private async Task ObserveStartAsync(Worker worker, TrialAssignment request)
    {
        try
        {
            await worker.Reference.StartTrialAsync(request);
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException)
        {
            // The worker is unreachable: forget it and put the trial back at the head of the queue.
            LogWorkerLost(logger, worker.Info.WorkerId, ex.Message);
            _workers.Remove(worker.Info.WorkerId);
            if (_grants.Remove(request.TrialKey))
            {
                _queue.Released(request.ExperimentId);
                _queue.EnqueueFirst(request with { GpuDevices = null });
            }

            await DispatchAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The worker refused the trial: its run fails with the reason (and is retried while failures allow).
            if (_grants.ContainsKey(request.TrialKey))
            {
                await request.Trial.RunFailedAsync(new TrialOutcome(TrialOutcomeKind.Failed, $"worker {worker.Info.WorkerId} could not start it: {ex.Message}", request.RestoreFrom?.Iteration ?? 0, request.Attempt));
            }
        }
    }

    /// <summary>The worker with the most free CPU (then the fewest trials) that fits a trial now, or null.</summary>
    private Worker? Place(TrialAssignment request) =>
        _workers.Values.Where(w => w.Fits(request.Resources)).MaxBy(w => (w.Info.CpuSlots - w.CpuUsed, -w.Trials));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId} did not take a trial and was removed: {Error}")]
    private static partial void LogWorkerLost(ILogger logger, string workerId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} on {Host} joined with {Cpus} CPU slots and {Gpus} GPUs{GpuMemory}")]
    private static partial void LogWorkerJoined(ILogger logger, string workerId, string host, double cpus, int gpus, string gpuMemory);

    private sealed class Worker(WorkerInfo info, ITrialWorker reference)
    {
        public WorkerInfo Info { get; set; } = info;

        public ITrialWorker Reference { get; set; } = reference;

        public double CpuUsed { get; set; }

        public double GpuUsed => Gpus.Total;

        public int Trials { get; set; }

        /// <summary>When the worker last announced itself (a <see cref="TimeProvider"/> timestamp).</summary>
        public long LastSeen { get; set; }

        /// <summary>Device by device: two half-GPU trials share one device, a whole-GPU trial needs a free one.</summary>
        public GpuLedger Gpus { get; } = new(info.Gpus);

        public bool Fits(ResourceRequest request) =>
            Info.CpuSlots - CpuUsed + Epsilon >= request.Cpu && Gpus.Fits(request.Gpu);
    }

    private sealed record Grant(string WorkerId, double Cpu, TrialAssignment Assignment);
}
