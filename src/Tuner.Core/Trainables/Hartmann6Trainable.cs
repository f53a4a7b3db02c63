using Tuner.Core.Space;

namespace Tuner.Core.Trainables;

/// <summary>
/// The six-dimensional Hartmann function on [0, 1]^6 (x1..x6); global minimum -3.32237.
/// Reports <c>value</c>; see <see cref="MultiFidelityFunction"/> for how reports approach it.
/// </summary>
public sealed class Hartmann6Trainable : MultiFidelityFunction
{
    public const double Minimum = -3.32236801141551;

    private static readonly double[] Alpha = [1.0, 1.2, 3.0, 3.2];

    private static readonly double[,] A =
    {
        { 10, 3, 17, 3.5, 1.7, 8 },
        { 0.05, 10, 17, 0.1, 8, 14 },
        { 3, 3.5, 1.7, 10, 17, 8 },
        { 17, 8, 0.05, 10, 0.1, 14 },
    };

    private static readonly double[,] P =
    {
        { 0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886 },
        { 0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991 },
        { 0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650 },
        { 0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381 },
    };

    public static TrainableDescriptor Descriptor { get; } = new(
        "hartmann6",
        "Hartmann 6-D test function (min -3.3224), multi-fidelity",
        ["value"],
        [.. Enumerable.Range(1, 6).Select(i => new TrainableParameter($"x{i}", true, "in [0, 1]")), .. CommonParameters],
        () => new Hartmann6Trainable());

    protected override double Offset => 1.0;

    protected override double DefaultNoise => 0.2;

    public static double Evaluate(ReadOnlySpan<double> x)
    {
        var sum = 0.0;
        for (var i = 0; i < 4; i++)
        {
            var inner = 0.0;
            for (var j = 0; j < 6; j++)
            {
                var d = x[j] - P[i, j];
                inner += A[i, j] * d * d;
            }

            sum += Alpha[i] * Math.Exp(-inner);
        }

        return -sum;
    }

    protected override double Evaluate(TrialConfig config)
    {
        Span<double> x = stackalloc double[6];
        for (var j = 0; j < 6; j++)
        {
            x[j] = config[$"x{j + 1}"].AsDouble();
        }

        return Evaluate(x);
    }
}
