using Tuner.Core.Space;

namespace Tuner.Core.Trainables;

/// <summary>
/// The Branin-Hoo function on x1 in [-5, 10], x2 in [0, 15]; global minimum 0.397887 at three points.
/// Reports <c>value</c>; see <see cref="MultiFidelityFunction"/> for how reports approach it. With <c>disk_radius</c> it also
/// reports <c>constraint_disk</c> (the constrained Branin: feasible within the radius of the domain's centre).
/// </summary>
public sealed class BraninTrainable : MultiFidelityFunction
{
    public const double Minimum = 0.39788735772973816;

    public static TrainableDescriptor Descriptor { get; } = new(
        "branin",
        "Branin-Hoo test function (2-D, min 0.3979), multi-fidelity",
        ["value", "constraint_disk"],
        [new("x1", true, "in [-5, 10]"), new("x2", true, "in [0, 15]"), new("disk_radius", false, "reports constraint_disk: the squared distance from (2.5, 7.5) minus the radius squared, feasible at or below 0"), .. CommonParameters],
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

    /// <summary>The disk constraint of the constrained Branin: feasible within <c>disk_radius</c> of the domain's centre (2.5, 7.5).</summary>
    public static double DiskConstraint(double x1, double x2, double radius) => ((x1 - 2.5) * (x1 - 2.5)) + ((x2 - 7.5) * (x2 - 7.5)) - (radius * radius);

    protected override Action<Dictionary<string, double>>? Constraints(TrialConfig config) =>
        config.TryGetValue("disk_radius", out var radius)
            ? metrics => metrics["constraint_disk"] = DiskConstraint(config["x1"].AsDouble(), config["x2"].AsDouble(), radius.AsDouble())
            : null;
}
