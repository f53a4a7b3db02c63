using Tuner.Core.Space;
using Tuner.Core.Trainables;

namespace Tuner.Core.Tests;

public sealed class TrainableTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static TrialContext Context(TrialConfig config, int seed = 5, int attempt = 1) => new("t00001", config, seed, attempt);

    [Theory]
    [InlineData(-Math.PI, 12.275)]
    [InlineData(Math.PI, 2.275)]
    [InlineData(9.42478, 2.475)]
    public void Branin_HasItsKnownMinima(double x1, double x2) =>
        Assert.Equal(BraninTrainable.Minimum, BraninTrainable.Evaluate(x1, x2), 5);

    [Fact]
    public void Hartmann6_HasItsKnownMinimum() =>
        Assert.Equal(Hartmann6Trainable.Minimum, Hartmann6Trainable.Evaluate([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]), 4);

    [Fact]
    public async Task MultiFidelity_ReportsApproachTheTrueValue()
    {
        await using var trainable = BraninTrainable.Descriptor.Create();
        await trainable.SetupAsync(Context(new([new("x1", 1.0), new("x2", 2.0)])), Ct);
        var truth = BraninTrainable.Evaluate(1, 2);

        var gaps = new List<double>();
        for (var t = 0; t < 12; t++)
        {
            var step = await trainable.StepAsync(Ct);
            gaps.Add(Math.Abs(step.Metrics["value"] - truth));
        }

        Assert.True(gaps[0] > 1, $"the first report should be far from the truth, gap {gaps[0]}");
        Assert.True(gaps[9] < 0.05, $"the tenth report should be close to the truth, gap {gaps[9]}");
        Assert.True(gaps[11] < gaps[2]);
    }

    [Fact]
    public async Task RestoringACheckpoint_ContinuesExactly()
    {
        var config = new TrialConfig([new("x1", 3.0), new("x2", 4.0)]);
        var straight = new List<double>();
        await using (var trainable = BraninTrainable.Descriptor.Create())
        {
            await trainable.SetupAsync(Context(config), Ct);
            for (var t = 0; t < 6; t++)
            {
                straight.Add((await trainable.StepAsync(Ct)).Metrics["value"]);
            }
        }

        var directory = Path.Combine(Path.GetTempPath(), $"tuner-ckpt-{Guid.NewGuid():N}");
        try
        {
            await using (var first = BraninTrainable.Descriptor.Create())
            {
                await first.SetupAsync(Context(config), Ct);
                for (var t = 0; t < 3; t++)
                {
                    await first.StepAsync(Ct);
                }

                await first.SaveCheckpointAsync(directory, Ct);
            }

            await using var resumed = BraninTrainable.Descriptor.Create();
            await resumed.SetupAsync(Context(config, attempt: 2), Ct);
            await resumed.RestoreCheckpointAsync(directory, Ct);
            var rest = new List<double>();
            for (var t = 0; t < 3; t++)
            {
                rest.Add((await resumed.StepAsync(Ct)).Metrics["value"]);
            }

            Assert.Equal(straight.Skip(3), rest);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Noop_FailsOnPurposeOnlyInTheFirstAttempts()
    {
        var config = new TrialConfig([new("fail_at_iteration", 2), new("fail_attempts", 1)]);
        await using var first = NoopTrainable.Descriptor.Create();
        await first.SetupAsync(Context(config, attempt: 1), Ct);
        await first.StepAsync(Ct);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await first.StepAsync(Ct));

        await using var second = NoopTrainable.Descriptor.Create();
        await second.SetupAsync(Context(config, attempt: 2), Ct);
        await second.StepAsync(Ct);
        await second.StepAsync(Ct);
    }

    [Fact]
    public async Task Sleep_ReportsTheConfiguredNumberOfTimes()
    {
        await using var trainable = SleepTrainable.Descriptor.Create();
        await trainable.SetupAsync(Context(new([new("seconds", 0.0), new("reports", 3)])), Ct);

        var done = new List<bool>();
        for (var t = 0; t < 3; t++)
        {
            done.Add((await trainable.StepAsync(Ct)).Done);
        }

        Assert.Equal([false, false, true], done);
    }

    [Fact]
    public async Task Sleep_HonoursCancellation()
    {
        await using var trainable = SleepTrainable.Descriptor.Create();
        await trainable.SetupAsync(Context(new([new("seconds", 3600.0)])), Ct);
        using var cancel = new CancellationTokenSource();
        var step = trainable.StepAsync(cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => step);
    }
}
