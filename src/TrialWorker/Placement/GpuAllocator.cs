using Tuner.Abstractions.Placement;

namespace Tuner.Worker.Placement;

/// <summary>
/// Which of this worker's GPUs each running trial holds. The resource scheduler grants the devices
/// (<c>TrialAssignment.GpuDevices</c>) and the worker binds the trial to exactly those; without a grant
/// of devices (an older scheduler) the worker chooses them itself the same way (<see cref="GpuLedger"/>).
/// </summary>
public sealed class GpuAllocator(int gpus)
{
    private readonly GpuLedger _ledger = new(gpus);
    private readonly Lock _lock = new();

    /// <summary>Places a trial needing <paramref name="cpu"/> slots and <paramref name="gpu"/> GPUs, on <paramref name="granted"/> devices when given.</summary>
    public TrialPlacement Allocate(string trialKey, double cpu, double gpu, IReadOnlyList<int>? granted = null)
    {
        var threads = Math.Max(1, (int)Math.Floor(cpu));
        if (gpu <= 0)
        {
            return TrialPlacement.Cpu(threads);
        }

        lock (_lock)
        {
            int[] indices;
            if (granted is { Count: > 0 })
            {
                if (!_ledger.ReserveExactly(trialKey, granted, gpu))
                {
                    throw new InvalidOperationException($"trial {trialKey} was granted GPU(s) {string.Join(",", granted)} for {gpu}, which this worker's {_ledger.Devices} GPU(s) cannot hold (in use: {string.Join(", ", _ledger.Used.Select(u => u.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)))})");
                }

                indices = [.. granted];
            }
            else
            {
                indices = _ledger.Reserve(trialKey, gpu) ?? throw new InvalidOperationException(gpu >= 1
                    ? $"trial {trialKey} needs {Math.Ceiling(gpu)} free GPU(s); this worker has {_ledger.Used.Count(u => u == 0)} of {_ledger.Devices} free"
                    : $"trial {trialKey} needs {gpu} of a GPU; none of this worker's {_ledger.Devices} GPU(s) has that much left");
            }

            return new TrialPlacement("cuda:0", indices, threads);
        }
    }

    public void Release(string trialKey)
    {
        lock (_lock)
        {
            _ledger.Release(trialKey);
        }
    }
}
