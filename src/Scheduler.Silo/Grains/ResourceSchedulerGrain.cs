using Microsoft.Extensions.Logging;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;

namespace Tuner.Scheduler.Grains;

/// <summary>
/// The cluster's resource scheduler: one queue of trials waiting for slots, first come first served,
/// each granted to the worker with the most free CPU that fits it. A grant starts the trial on that
/// worker directly through its observer reference.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class ResourceSchedulerGrain(ILogger<ResourceSchedulerGrain> logger) : Grain, IResourceSchedulerGrain
{
    private const double Epsilon = 1e-9;
    private readonly Dictionary<string, Worker> _workers = new(StringComparer.Ordinal);
    private readonly LinkedList<TrialAssignment> _queue = new();
    private readonly Dictionary<string, LinkedListNode<TrialAssignment>> _queued = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Grant> _grants = new(StringComparer.Ordinal);

    public async Task RegisterWorkerAsync(WorkerInfo info, ITrialWorker worker)
    {
        if (_workers.TryGetValue(info.WorkerId, out var existing))
        {
            existing.Reference = worker;
            existing.Info = info;
        }
        else
        {
            _workers[info.WorkerId] = new Worker(info, worker);
            LogWorkerJoined(logger, info.WorkerId, info.Host, info.CpuSlots, info.Gpus);
        }

        await DispatchAsync();
    }

    public Task UnregisterWorkerAsync(string workerId)
    {
        _workers.Remove(workerId);
        return Task.CompletedTask;
    }

    public async Task SubmitAsync(TrialAssignment assignment)
    {
        if (_queued.ContainsKey(assignment.TrialKey) || _grants.ContainsKey(assignment.TrialKey))
        {
            throw new InvalidOperationException($"trial {assignment.TrialKey} is already queued or running");
        }

        _queued[assignment.TrialKey] = _queue.AddLast(assignment);
        await DispatchAsync();
    }

    public async Task ReleaseAsync(string trialKey)
    {
        if (_grants.Remove(trialKey, out var grant) && _workers.TryGetValue(grant.WorkerId, out var worker))
        {
            worker.CpuUsed = Math.Max(0, worker.CpuUsed - grant.Cpu);
            worker.GpuUsed = Math.Max(0, worker.GpuUsed - grant.Gpu);
            worker.Trials--;
        }

        await DispatchAsync();
    }

    public async Task<bool> CancelAsync(string trialKey, string reason)
    {
        if (_queued.Remove(trialKey, out var node))
        {
            _queue.Remove(node);
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
    /// Grants slots to queued trials in arrival order. A trial that fits no worker now waits without
    /// holding up the smaller ones behind it.
    /// </summary>
    private async Task DispatchAsync()
    {
        for (var node = _queue.First; node is not null;)
        {
            var next = node.Next;
            var request = node.Value;
            var worker = _workers.Values
                .Where(w => w.Fits(request.Resources))
                .MaxBy(w => (w.Info.CpuSlots - w.CpuUsed, -w.Trials));
            if (worker is not null)
            {
                _queue.Remove(node);
                _queued.Remove(request.TrialKey);
                _grants[request.TrialKey] = new Grant(worker.Info.WorkerId, request.Resources.Cpu, request.Resources.Gpu);
                worker.CpuUsed += request.Resources.Cpu;
                worker.GpuUsed += request.Resources.Gpu;
                worker.Trials++;
                try
                {
                    await worker.Reference.StartTrialAsync(request);
                }
                catch (Exception ex) when (ex is OrleansException or TimeoutException)
                {
                    // The worker is unreachable: forget it and put the trial back at the head of the queue.
                    LogWorkerLost(logger, worker.Info.WorkerId, ex.Message);
                    _workers.Remove(worker.Info.WorkerId);
                    _grants.Remove(request.TrialKey);
                    _queued[request.TrialKey] = _queue.AddFirst(request);
                    next = _queue.First;
                }
            }

            node = next;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId} did not take a trial and was removed: {Error}")]
    private static partial void LogWorkerLost(ILogger logger, string workerId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} on {Host} joined with {Cpus} CPU slots and {Gpus} GPUs")]
    private static partial void LogWorkerJoined(ILogger logger, string workerId, string host, double cpus, int gpus);

    private sealed class Worker(WorkerInfo info, ITrialWorker reference)
    {
        public WorkerInfo Info { get; set; } = info;

        public ITrialWorker Reference { get; set; } = reference;

        public double CpuUsed { get; set; }

        public double GpuUsed { get; set; }

        public int Trials { get; set; }

        public bool Fits(ResourceRequest request) =>
            Info.CpuSlots - CpuUsed + Epsilon >= request.Cpu && Info.Gpus - GpuUsed + Epsilon >= request.Gpu;
    }

    private sealed record Grant(string WorkerId, double Cpu, double Gpu);
}
