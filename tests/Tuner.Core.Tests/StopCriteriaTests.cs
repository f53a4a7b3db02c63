using Tuner.Core.Experiments;
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

        Assert.Null(stop.ShouldStop(At(2, 1)));
        Assert.Contains("training_iteration", stop.ShouldStop(At(3, 1)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OptimizationMode.Min, 0.09, true)]
    [InlineData(OptimizationMode.Min, 0.11, false)]
    [InlineData(OptimizationMode.Max, 0.11, true)]
    [InlineData(OptimizationMode.Max, 0.09, false)]
    public void StopsWhenTheThresholdIsReachedInTheModesDirection(OptimizationMode mode, double value, bool stops)
    {
        var stop = new StopCriteria(Spec(mode, threshold: 0.1));

        Assert.Equal(stops, stop.ShouldStop(At(1, value)) is not null);
    }
}
