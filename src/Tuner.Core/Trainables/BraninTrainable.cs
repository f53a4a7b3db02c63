using Tuner.Core.Space;

namespace Tuner.Core.Trainables;

/// <summary>
/// The Branin-Hoo function on x1 in [-5, 10], x2 in [0, 15]; global minimum 0.397887 at three points.
/// Reports <c>value</c>; see <see cref="MultiFidelityFunction"/> for how reports approach it.
/// </summary>
public sealed class BraninTrainable : MultiFidelityFunction
{
    public const double Minimum = 0.39788735772973816;

    public static TrainableDescriptor Descriptor { get; } = new(
        "branin",
        "Branin-Hoo test function (2-D, min 0.3979), multi-fidelity",
        ["value"],
        [new("x1", true, "in [-5, 10]"), new("x2", true, "in [0, 15]"), .. CommonParameters],
        () => new BraninTrainable());

    protected override double Offset => 10.0;

    protected override double DefaultNoise => 2.0;

    public static double Evaluate(double x1, double x2)
    {
        const double a = 1.0;
        const double b = 5.1 / (4 * Math.PI * Math.PI);
        const double c = 5.0 / Math.PI;
        const double r = 6.0;
        const double s = 10.0;
        const double t = 1.0 / (8 * Math.PI);
        var term = x2 - (b * x1 * x1) + (c * x1) - r;
        return (a * term * term) + (s * (1 - t) * Math.Cos(x1)) + s;
    }

    protected override double Evaluate(TrialConfig config) => Evaluate(config["x1"].AsDouble(), config["x2"].AsDouble());
}
