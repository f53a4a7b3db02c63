using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Stoppers;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class StopCriteriaTests
{
    private static TrialResult At(long iteration, double value) => new(iteration, 0, 0, new Dictionary<string, double> { ["loss"] = value });

    private static ExperimentSpec Spec(OptimizationMode mode, int? iterations = null, double? threshold = null) => new()
    {
        Name = "s",
        Trainable = "noop",
        Metric = "loss",
        Mode = mode,
        Stop = new StopSpec { TrainingIteration = iterations, MetricThreshold = threshold },
    };

    [Fact]
    public void StopsAtTheIterationLimit()
    {
        var stop = new StopCriteria(Spec(OptimizationMode.Min, iterations: 3));

        Assert.Null(stop.ShouldStop("t00001", At(2, 1)));
        Assert.Contains("training_iteration", stop.ShouldStop("t00001", At(3, 1)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OptimizationMode.Min, 0.09, true)]
    [InlineData(OptimizationMode.Min, 0.11, false)]
    [InlineData(OptimizationMode.Max, 0.11, true)]
    [InlineData(OptimizationMode.Max, 0.09, false)]
    public void StopsWhenTheThresholdIsReachedInTheModesDirection(OptimizationMode mode, double value, bool stops)
    {
        var stop = new StopCriteria(Spec(mode, threshold: 0.1));

        Assert.Equal(stops, stop.ShouldStop("t00001", At(1, value)) is not null);
    }

    private static TrialResult Of(long iteration, string metric, double value) => new(iteration, 0, 0, new Dictionary<string, double> { [metric] = value });

    /// <summary>Feeds <paramref name="values"/> to the rules as one trial's results; returns the index (0-based) of the first that stops it, or -1.</summary>
    private static (int At, string? Reason) FirstStop(StopCriteria stop, string trialId, params double[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            var result = Of(i + 1, "loss", values[i]);
            stop.Observe(trialId, result);
            if (stop.ShouldStop(trialId, result) is { } reason)
            {
                return (i, reason);
            }
        }

        return (-1, null);
    }

    private static StopCriteria Plateau(TrialPlateauSpec plateau, OptimizationMode mode = OptimizationMode.Min) =>
        new(Spec(mode) with { Stop = new StopSpec { TrialPlateau = plateau } });

    [Fact]
    public void TrialPlateau_StopsWhenTheLastResultsSpreadLessThanStd_NotDuringTheGracePeriod()
    {
        // Ray's defaults: std 0.01 over the last 4 results, not before 4 results.
        var stop = Plateau(new TrialPlateauSpec());

        // 1.0, 0.5, 0.3: moving. Then 0.30, 0.301, 0.299: the window [0.3, 0.30, 0.301, 0.299] has std 0.0007 at the sixth.
        var (at, reason) = FirstStop(stop, "t00001", 1.0, 0.5, 0.3, 0.30, 0.301, 0.299, 0.3);

        Assert.Equal(5, at);
        Assert.StartsWith("trial_plateau: loss's last 4 results have std ", reason, StringComparison.Ordinal);
        Assert.Contains("(after 6 results)", reason, StringComparison.Ordinal);

        // Flat from the first result: the grace period (6 results here) holds it until the sixth.
        Assert.Equal(5, FirstStop(Plateau(new TrialPlateauSpec { GracePeriod = 6 }), "t00002", 1, 1, 1, 1, 1, 1, 1).At);
    }

    [Fact]
    public void TrialPlateau_WithAThreshold_StopsOnlyAtValuesThatGoodInTheModesDirection()
    {
        var flatHigh = new[] { 0.9, 0.9, 0.9, 0.9, 0.9, 0.9 };

        Assert.Equal(-1, FirstStop(Plateau(new TrialPlateauSpec { MetricThreshold = 0.5 }), "t00001", flatHigh).At);
        Assert.Equal(3, FirstStop(Plateau(new TrialPlateauSpec { MetricThreshold = 0.5 }, OptimizationMode.Max), "t00001", flatHigh).At);

        // Its own mode overrides the experiment's.
        Assert.Equal(3, FirstStop(Plateau(new TrialPlateauSpec { MetricThreshold = 0.5, Mode = OptimizationMode.Max }), "t00001", flatHigh).At);
    }

    [Fact]
    public void TrialPlateau_KeepsAWindowPerOpenTrial_AndForgetsEndedOnes()
    {
        var stop = Plateau(new TrialPlateauSpec { NumResults = 2, GracePeriod = 0 });

        // Interleaved: each trial's window holds its own values only.
        stop.Observe("t00001", Of(1, "loss", 1.0));
        stop.Observe("t00002", Of(1, "loss", 1.0));
        stop.Observe("t00001", Of(2, "loss", 0.5));
        Assert.Null(stop.ShouldStop("t00001", Of(2, "loss", 0.5)));
        stop.Observe("t00002", Of(2, "loss", 1.0));
        Assert.NotNull(stop.ShouldStop("t00002", Of(2, "loss", 1.0)));

        // A result without the metric counts as not flat while it is in the window.
        stop.Observe("t00002", Of(3, "other", 1.0));
        Assert.Null(stop.ShouldStop("t00002", Of(3, "other", 1.0)));

        stop.Ended("t00002");
        stop.Observe("t00002", Of(4, "loss", 1.0));
        Assert.Null(stop.ShouldStop("t00002", Of(4, "loss", 1.0)));
    }

    private static StopCriteria ExperimentPlateau(ExperimentPlateauSpec plateau, OptimizationMode mode = OptimizationMode.Min) =>
        new(Spec(mode) with { Stop = new StopSpec { ExperimentPlateau = plateau } });

    /// <summary>Results of several trials in turn; returns the index of the first after which the experiment ends, or -1.</summary>
    private static (int At, string? Reason) FirstEnd(StopCriteria stop, params double[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            stop.Observe($"t{(i % 3) + 1:D5}", Of(1, "loss", values[i]));
            if (stop.ShouldEndExperiment() is { } reason)
            {
                return (i, reason);
            }
        }

        return (-1, null);
    }

    [Fact]
    public void ExperimentPlateau_EndsWhenTheTopValuesAgree_AsRayCountsPatience()
    {
        // Top 3, std 0.01: the best three of [5, 1.0, 4, 1.01, 3, 0.99] are 0.99, 1.0, 1.01 (std 0.0082) only at the sixth.
        var values = new[] { 5, 1.0, 4, 1.01, 3, 0.99, 7, 8, 9 };
        var (at, reason) = FirstEnd(ExperimentPlateau(new ExperimentPlateauSpec { Top = 3, Std = 0.01 }), values);

        Assert.Equal(5, at);
        Assert.StartsWith("experiment_plateau: the top 3 values of loss have std 0.008165 <= 0.01", reason, StringComparison.Ordinal);

        // Patience 2: the plateau must hold for two results in a row (the worse ones after do not move the top three).
        Assert.Equal(6, FirstEnd(ExperimentPlateau(new ExperimentPlateauSpec { Top = 3, Std = 0.01, Patience = 2 }), values).At);

        // A better value that breaks the plateau starts the count again: 0.5 joins the top three at the seventh.
        Assert.Equal(-1, FirstEnd(ExperimentPlateau(new ExperimentPlateauSpec { Top = 3, Std = 0.01, Patience = 2 }), 5, 1.0, 4, 1.01, 3, 0.99, 0.5).At);

        // For max the top are the largest: 5, 4, 3 never agree within 0.01.
        Assert.Equal(-1, FirstEnd(ExperimentPlateau(new ExperimentPlateauSpec { Top = 3, Std = 0.01 }, OptimizationMode.Max), values).At);
    }

    [Fact]
    public void OnlyThePlateauRulesKeepState()
    {
        Assert.False(new StopCriteria(Spec(OptimizationMode.Min, iterations: 3, threshold: 1)).HasState);
        Assert.True(new StopCriteria(Spec(OptimizationMode.Min, iterations: 3)).Decides);
        Assert.False(new StopCriteria(Spec(OptimizationMode.Min)).Decides);
        Assert.True(Plateau(new TrialPlateauSpec()).HasState);
        Assert.True(ExperimentPlateau(new ExperimentPlateauSpec()).HasState);
    }
}
