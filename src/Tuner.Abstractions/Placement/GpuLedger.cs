namespace Tuner.Abstractions.Placement;

/// <summary>
/// One worker's GPUs, device by device: which trial holds how much of which device. A request of one
/// or more takes whole free devices; a fraction takes a share of one device, packed best-fit (the
/// fullest device it still fits on) so that whole devices stay free for whole requests. Capacity is
/// never exceeded: a request that does not fit is refused, never spread over half-used devices.
/// </summary>
public sealed class GpuLedger(int devices)
{
    private const double Epsilon = 1e-9;
    private readonly double[] _used = new double[devices];
    private readonly Dictionary<string, (int[] Devices, double Share)> _held = new(StringComparer.Ordinal);

    public int Devices => _used.Length;

    /// <summary>How much of each device is held (0 to 1).</summary>
    public IReadOnlyList<double> Used => _used;

    public double Total => _used.Sum();

    /// <summary>The devices a request would get now, or null when it does not fit.</summary>
    public int[]? Choose(double gpu)
    {
        if (gpu <= 0)
        {
            return [];
        }

        if (gpu >= 1 - Epsilon)
        {
            var whole = (int)Math.Ceiling(gpu - Epsilon);
            var free = Enumerable.Range(0, _used.Length).Where(i => _used[i] < Epsilon).Take(whole).ToArray();
            return free.Length == whole ? free : null;
        }

        var fits = Enumerable.Range(0, _used.Length).Where(i => _used[i] + gpu <= 1 + Epsilon).ToList();
        return fits.Count == 0 ? null : [fits.OrderByDescending(i => _used[i]).ThenBy(i => i).First()];
    }

    public bool Fits(double gpu) => Choose(gpu) is not null;

    /// <summary>Reserves <paramref name="gpu"/> for <paramref name="key"/>; the devices, or null (nothing reserved) when it does not fit.</summary>
    public int[]? Reserve(string key, double gpu)
    {
        if (_held.ContainsKey(key) || Choose(gpu) is not { } chosen)
        {
            return null;
        }

        var share = gpu >= 1 - Epsilon ? 1 : gpu;
        foreach (var i in chosen)
        {
            _used[i] += share;
        }

        _held[key] = (chosen, share);
        return chosen;
    }

    /// <summary>Reserves exactly these devices (granted elsewhere); false when they are not free enough.</summary>
    public bool ReserveExactly(string key, IReadOnlyList<int> chosen, double gpu)
    {
        var share = gpu >= 1 - Epsilon ? 1 : gpu;
        if (_held.ContainsKey(key) || chosen.Any(i => i < 0 || i >= _used.Length || _used[i] + share > 1 + Epsilon))
        {
            return false;
        }

        foreach (var i in chosen)
        {
            _used[i] += share;
        }

        _held[key] = ([.. chosen], share);
        return true;
    }

    public void Release(string key)
    {
        if (_held.Remove(key, out var held))
        {
            foreach (var i in held.Devices)
            {
                _used[i] = Math.Max(0, _used[i] - held.Share);
            }
        }
    }
}
