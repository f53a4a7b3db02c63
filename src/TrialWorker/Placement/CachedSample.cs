namespace Tuner.Worker.Placement;

/// <summary>A value read at most once per interval (a probe too slow to run on every metric collection).</summary>
public sealed class CachedSample<T>(Func<T> read, TimeSpan interval, TimeProvider time)
{
    private readonly Lock _gate = new();
    private T? _value;
    private long _readAt;
    private bool _has;

    public T Get()
    {
        lock (_gate)
        {
            if (!_has || time.GetElapsedTime(_readAt) >= interval)
            {
                _value = read();
                _readAt = time.GetTimestamp();
                _has = true;
            }

            return _value!;
        }
    }
}
