using System.Globalization;

namespace Tuner.Core.Experiments;

/// <summary>
/// Reads a trial's learning curve (validation loss and learning rate per iteration) and says when a
/// learning-rate scheduler would likely help: the loss stopped improving, or swings up and down,
/// while the rate stayed constant. Trials that do not report <c>valid_loss</c> and <c>lr</c> get no advice.
/// </summary>
public static class LearningCurveDiagnosis
{
    public const string LossMetric = "valid_loss";

    public const string RateMetric = "lr";

    /// <summary>Iterations the last window spans at least; longer curves use their last quarter.</summary>
    public const int MinimumWindow = 5;

    /// <summary>The advice for a curve, or null when it looks fine, is too short, or its rate already changes.</summary>
    public static string? Diagnose(IReadOnlyList<(double Loss, double Rate)> curve)
    {
        var window = Math.Max(MinimumWindow, curve.Count / 4);
        if (curve.Count < 2 * window)
        {
            return null;
        }

        var recent = curve.Skip(curve.Count - window).ToList();
        var rates = recent.Select(p => p.Rate).ToList();
        if (rates.Max() > rates.Min() * (1 + 1e-9) || recent.Any(p => !double.IsFinite(p.Loss)))
        {
            return null;
        }

        var rate = rates[0].ToString("G3", CultureInfo.InvariantCulture);
        var losses = recent.Select(p => p.Loss).ToList();
        var turns = 0;
        for (var i = 2; i < losses.Count; i++)
        {
            if (Math.Sign(losses[i] - losses[i - 1]) * Math.Sign(losses[i - 1] - losses[i - 2]) < 0)
            {
                turns++;
            }
        }

        var spread = (losses.Max() - losses.Min()) / Math.Max(Math.Abs(losses.Average()), 1e-12);
        if (turns >= (losses.Count - 2) * 0.6 && spread > 0.02)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{LossMetric} oscillates ({turns} turns in the last {window} iterations, swinging {spread:P0}) at a constant learning rate {rate}: would benefit from a learning-rate scheduler (a lower or decaying rate)");
        }

        var bestBefore = curve.Take(curve.Count - window).Min(p => p.Loss);
        if (losses.Min() >= bestBefore * (1 - 0.01))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{LossMetric} has not improved by 1% in the last {window} iterations at a constant learning rate {rate}: would benefit from a learning-rate scheduler (reduce-on-plateau or cosine)");
        }

        return null;
    }
}
