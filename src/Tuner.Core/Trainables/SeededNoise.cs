namespace Tuner.Core.Trainables;

/// <summary>
/// Noise that is a pure function of (seed, step): the same trial reports the same values whether it
/// runs straight through or resumes from a checkpoint, with no random state to save.
/// </summary>
public static class SeededNoise
{
    /// <summary>
    /// A seed for item <paramref name="index"/> (a trial) derived from <paramref name="seed"/>: the same in every
    /// process, unlike <see cref="HashCode"/>, which .NET randomises per process.
    /// </summary>
    public static int DeriveSeed(int seed, long index) => (int)(Mix((ulong)(uint)seed, (ulong)index) & int.MaxValue);

    /// <summary>A uniform value in [0, 1).</summary>
    public static double Uniform(int seed, long step) => (Mix((ulong)(uint)seed, (ulong)step) >> 11) * (1.0 / (1UL << 53));

    /// <summary>A standard normal value.</summary>
    public static double Normal(int seed, long step)
    {
        var u1 = 1.0 - Uniform(seed, step);
        var u2 = Uniform(seed ^ 0x5bd1e995, step);
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static ulong Mix(ulong a, ulong b)
    {
        // SplitMix64 finaliser over the two inputs.
        var z = (a * 0x9E3779B97F4A7C15UL) ^ (b + 0x632BE59BD9B4E019UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
