using Tuner.Core.Experiments;

namespace Tuner.Core.Tests;

public sealed class LearningCurveDiagnosisTests
{
    private static List<(double, double)> Curve(Func<int, double> loss, Func<int, double> rate, int length = 20) =>
        Enumerable.Range(0, length).Select(i => (loss(i), rate(i))).ToList();

    [Fact]
    public void APlateauAtAConstantRate_IsFlagged()
    {
        var advice = LearningCurveDiagnosis.Diagnose(Curve(i => i < 10 ? 1.0 - (i * 0.05) : 0.55 + (0.001 * (i % 2)), _ => 1e-3));

        Assert.NotNull(advice);
        Assert.Contains("has not improved", advice, StringComparison.Ordinal);
        Assert.Contains("constant learning rate 0.001", advice, StringComparison.Ordinal);
    }

    [Fact]
    public void OscillationAtAConstantRate_IsFlagged()
    {
        var advice = LearningCurveDiagnosis.Diagnose(Curve(i => 0.5 + (i % 2 == 0 ? 0.1 : -0.1) - (i * 0.001), _ => 0.1));

        Assert.NotNull(advice);
        Assert.Contains("oscillates", advice, StringComparison.Ordinal);
    }

    [Fact]
    public void AStillImprovingCurve_IsNotFlagged() =>
        Assert.Null(LearningCurveDiagnosis.Diagnose(Curve(i => 1.0 / (1 + i), _ => 1e-3)));

    [Fact]
    public void APlateauWhileTheRateChanges_IsNotFlagged_ASchedulerIsAlreadyAtWork() =>
        Assert.Null(LearningCurveDiagnosis.Diagnose(Curve(i => i < 10 ? 1.0 - (i * 0.05) : 0.55, i => 1e-3 * Math.Pow(0.9, i))));

    [Fact]
    public void AShortCurve_GetsNoAdvice() =>
        Assert.Null(LearningCurveDiagnosis.Diagnose(Curve(_ => 0.5, _ => 1e-3, length: 9)));
}
