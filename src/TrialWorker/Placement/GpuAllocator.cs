namespace Tuner.Worker.Placement;

/// <summary>
/// Which of this worker's GPUs each running trial holds. The resource scheduler decides how much of
/// the worker a trial gets; the worker decides which physical GPUs: whole GPUs for a request of one
/// or more, a share of the least-loaded GPU with room for a fraction.
/// </summary>
public sealed class GpuAllocator(int gpus)
{
    private readonly double[] _used = new double[gpus];
    private readonly Dictionary<string, (int[] Indices, double Share)> _held = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Places a trial needing <paramref name="cpu"/> slots and <paramref name="gpu"/> GPUs.</summary>
    public TrialPlacement Allocate(string trialKey, double cpu, double gpu)
    {
        var threads = Math.Max(1, (int)Math.Floor(cpu));
        if (gpu <= 0)
        {
            return TrialPlacement.Cpu(threads);
        }

        lock (_lock)
        {
            int[] indices;
            double share;
            if (gpu >= 1)
            {
                var whole = (int)Math.Ceiling(gpu);
                indices = [.. Enumerable.Range(0, _used.Length).Where(i => _used[i] == 0).Take(whole)];
                share = 1;
                if (indices.Length < whole)
                {
                    throw new InvalidOperationException($"trial {trialKey} needs {whole} free GPU(s); this worker has {_used.Count(u => u == 0)} of {_used.Length} free");
                }
            }
            else
            {
                var best = Enumerable.Range(0, _used.Length).Where(i => _used[i] + gpu <= 1 + 1e-9).OrderBy(i => _used[i]).ThenBy(i => i).ToArray();
                if (best.Length == 0)
                {
                    throw new InvalidOperationException($"trial {trialKey} needs {gpu} of a GPU; none of this worker's {_used.Length} GPU(s) has that much left");
                }

                indices = [best[0]];
                share = gpu;
            }

            foreach (var i in indices)
            {
                _used[i] += share;
            }

            _held[trialKey] = (indices, share);
            return new TrialPlacement("cuda:0", indices, threads);
        }
    }

    public void Release(string trialKey)
    {
        lock (_lock)
        {
            if (_held.Remove(trialKey, out var held))
            {
                foreach (var i in held.Indices)
                {
                    _used[i] = Math.Max(0, _used[i] - held.Share);
                }
            }
        }
    }
}
