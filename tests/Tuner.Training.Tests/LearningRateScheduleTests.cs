using Tuner.Core.Space;
using Tuner.Training.Configuration;
using Tuner.Training.Schedules;

namespace Tuner.Training.Tests;

public sealed class LearningRateScheduleTests
{
    private static List<double> Run(LearningRateSchedule schedule, int steps, Func<int, double>? loss = null)
    {
        var rates = new List<double>();
        for (var i = 0; i < steps; i++)
        {
            rates.Add(schedule.Current);
            schedule.Step(loss?.Invoke(i) ?? 1.0);
        }

        return rates;
    }

    private static void AssertClose(IEnumerable<double> expected, IEnumerable<double> actual)
    {
        var (e, a) = (expected.ToList(), actual.ToList());
        Assert.Equal(e.Count, a.Count);
        Assert.All(e.Zip(a), p => Assert.Equal(p.First, p.Second, 12));
    }

    private static TrialConfig Config(params (string Key, ParamValue Value)[] items) => new(items.Select(i => new KeyValuePair<string, ParamValue>(i.Key, i.Value)));

    [Fact]
    public void Step_MultipliesByGammaEveryStepSize()
    {
        var rates = Run(new StepSchedule(0.1, stepSize: 3, gamma: 0.5), 7);

        AssertClose([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025], rates);
    }

    [Fact]
    public void Cosine_WarmsUpLinearly_ThenDecaysToTheMinimumAtTheLastStep()
    {
        var rates = Run(new CosineWarmupSchedule(1.0, warmup: 4, total: 21, min: 0.01), 21);

        AssertClose([0.25, 0.5, 0.75, 1.0], rates.Take(4));
        Assert.Equal(0.01, rates[^1], 12);
        Assert.True(rates.Skip(4).Zip(rates.Skip(5)).All(p => p.First >= p.Second), "after warm-up the rate never rises");

        // Halfway through the decay (steps 4 to 20), the cosine is at the midpoint of peak and minimum.
        Assert.Equal((1.0 + 0.01) / 2, rates[12], 12);
    }

    [Fact]
    public void Plateau_CutsTheRateAfterPatienceStepsWithoutImprovement()
    {
        // Improves for 3 steps (0-2), then flat: as in PyTorch, the third bad step (patience 2) cuts the
        // rate, so step 6 runs at half of it, and three more bad steps halve it again for step 9.
        var rates = Run(new ReduceOnPlateauSchedule(0.1, factor: 0.5, patience: 2, min: 0.02), 12, i => i < 3 ? 1.0 - (i * 0.1) : 0.8);

        AssertClose([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025], rates);
        Assert.Equal(0.02, Run(new ReduceOnPlateauSchedule(0.1, 0.5, 0, 0.02), 10, _ => 1.0)[^1], 12);
    }

    [Fact]
    public void OneCycle_RisesToMaxAtPctStart_ThenFallsFarBelowTheStart()
    {
        var schedule = new OneCycleSchedule(maxLr: 1.0, total: 100, pctStart: 0.3);

        var rates = Run(schedule, 100);

        Assert.Equal(1.0 / 25, rates[0], 12);
        Assert.Equal(1.0, rates[29], 12);
        Assert.Equal(rates.Max(), rates[29]);
        Assert.Equal(schedule.Final, rates[^1], 12);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("step")]
    [InlineData("cosine")]
    [InlineData("plateau")]
    [InlineData("onecycle")]
    public void ASchedule_RestoredFromItsState_ContinuesExactly(string name)
    {
        var config = Config(("lr", 0.1), ("lr_scheduler", name), ("step_size", 2), ("patience", 1), ("warmup_epochs", 2));
        Func<int, double> loss = i => 1.0 / (1 + (i % 4));
        var straight = LearningRateSchedule.FromConfig(config, 12);
        var expected = Run(straight, 12, loss);

        var first = LearningRateSchedule.FromConfig(config, 12);
        var before = Run(first, 5, loss);
        var resumed = LearningRateSchedule.FromConfig(config, 12);
        resumed.Restore(first.State());
        var after = Run(resumed, 7, i => loss(i + 5));

        Assert.Equal(expected, before.Concat(after));
    }

    [Theory]
    [InlineData("lr_scheduler", "linear", "lr_scheduler: 'linear' is not one of the allowed values")]
    [InlineData("lr", "-1", "lr: must be a positive number")]
    [InlineData("gamma", "1.5", "gamma: must be between 0 and 1")]
    public void FromConfig_RejectsBadValues_NamingTheKey(string key, string value, string message)
    {
        var config = Config(("lr_scheduler", key == "lr_scheduler" ? value : "step"), (key == "lr_scheduler" ? "x" : key, key == "lr_scheduler" ? 0 : double.Parse(value, System.Globalization.CultureInfo.InvariantCulture)));

        var ex = Assert.Throws<ConfigException>(() => LearningRateSchedule.FromConfig(config, 10));

        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ApplyLearningRate_SetsTheOptimizersRate()
    {
        TorchRuntime.EnsureInitialized();
        using var model = TorchSharp.torch.nn.Linear(2, 1);
        var optimizer = TorchSharp.torch.optim.SGD(model.parameters(), 0.5);
        var schedule = new StepSchedule(0.5, stepSize: 1, gamma: 0.1);

        schedule.Step(1);
        optimizer.ApplyLearningRate(schedule);

        Assert.Equal(0.05, optimizer.ParamGroups.Single().LearningRate, 12);
    }
}
