using System.Diagnostics;
using Tuner.Core.Space;
using Tuner.Data.Datasets;
using Tuner.Training.Models;
using Tuner.Training.Tasks;
using Tuner.Training.Training;
using static TorchSharp.torch;

namespace Tuner.Training.Tests;

public sealed class TrainerTests
{
    internal static readonly Lazy<IReadOnlyList<GestureSequence>> Sequences = new(() => GesturesDataset.LoadAsync(SharedData.Cache).GetAwaiter().GetResult());

    public TrainerTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Gru_LearnsTheGestures_ReportingEveryEpoch()
    {
        set_num_threads(2);
        var task = new GesturesTask(Sequences.Value, 0.2, splitSeed: 0);
        using var trainer = Trainer.Create(task, "rnn", ModelFactoryTests.Config(("hidden_size", 64), ("num_layers", 2), ("lr", 0.003)), seed: 1, epochs: 4, CPU);
        var watch = Stopwatch.StartNew();

        var epochs = Enumerable.Range(0, 4).Select(_ => trainer.RunEpoch(TestContext.Current.CancellationToken)).ToArray();

        TestContext.Current.SendDiagnosticMessage($"GRU epochs: {watch.Elapsed.TotalSeconds / 4:F2} s each; accuracy {string.Join(", ", epochs.Select(e => e.Accuracy.ToString("F3")))}");
        Assert.Equal(4, trainer.Epoch);
        Assert.True(epochs[^1].Accuracy > 0.6, $"accuracy after 4 epochs: {epochs[^1].Accuracy}");
        Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss / 2, $"train loss {epochs[0].TrainLoss} then {epochs[^1].TrainLoss}");
        Assert.All(epochs, e => Assert.Equal(0.003, e.LearningRate));
    }

    [Theory]
    [InlineData("mlp", "sgd")]
    [InlineData("cnn", "adamw")]
    [InlineData("rnn", "adam")]
    public void EveryFamily_LearnsWithEveryOptimiser_AndReportsTheScheduledRate(string family, string optimizer)
    {
        set_num_threads(2);
        var task = new GesturesTask(Sequences.Value, 0.2, splitSeed: 0);
        var config = ModelFactoryTests.Config(("optimizer", optimizer), ("lr", optimizer == "sgd" ? 0.05 : 0.005), ("hidden_size", 16), ("lr_scheduler", "step"), ("step_size", 1), ("gamma", 0.5));
        using var trainer = Trainer.Create(task, family, config, seed: 3, epochs: 3, CPU);

        var epochs = Enumerable.Range(0, 3).Select(_ => trainer.RunEpoch(TestContext.Current.CancellationToken)).ToArray();

        Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss, $"{family}/{optimizer}: train loss {epochs[0].TrainLoss} then {epochs[^1].TrainLoss}");
        Assert.True(epochs[^1].Accuracy > 0.2, $"{family}/{optimizer}: accuracy {epochs[^1].Accuracy} (chance is 0.05)");
        var lr = optimizer == "sgd" ? 0.05 : 0.005;
        Assert.Equal([lr, lr / 2, lr / 4], epochs.Select(e => e.LearningRate));
    }

    [Fact]
    public void AnUnknownOptimiser_FailsNamingTheAllowedOnes()
    {
        var task = new GesturesTask(Sequences.Value, 0.2, splitSeed: 0);

        var ex = Assert.Throws<Configuration.ConfigException>(() => Trainer.Create(task, "mlp", ModelFactoryTests.Config(("optimizer", "rmsprop")), seed: 1, epochs: 1, CPU));

        Assert.Equal("optimizer: 'rmsprop' is not one of the allowed values: sgd, adam, adamw", ex.Message);
    }

    [Fact]
    public void Cancellation_StopsBeforeTheNextBatch()
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var task = new InterruptingTask(new GesturesTask(Sequences.Value, 0.2, splitSeed: 0), cancelAtBatch: 5, cancellation);
        using var trainer = Trainer.Create(task, "rnn", ModelFactoryTests.Config(("hidden_size", 8)), seed: 1, epochs: 1, CPU);

        Assert.Throws<OperationCanceledException>(() => trainer.RunEpoch(cancellation.Token));

        Assert.Equal(5, task.BatchesServed);
        Assert.Equal(0, trainer.Epoch);
    }

    /// <summary>Serves another task's batches and cancels a token when a given batch is asked for.</summary>
    internal sealed class InterruptingTask(TrainingTask inner, int cancelAtBatch, CancellationTokenSource cancellation) : TrainingTask
    {
        public int BatchesServed { get; private set; }

        public override ModelInput Input => inner.Input;

        public override int TrainCount => inner.TrainCount;

        public override int ValidationCount => inner.ValidationCount;

        public override TensorBatch TrainBatch(ReadOnlySpan<int> indices, Device device)
        {
            BatchesServed++;
            if (BatchesServed == cancelAtBatch)
            {
                cancellation.Cancel();
            }

            return inner.TrainBatch(indices, device);
        }

        public override TensorBatch ValidationBatch(int start, int count, Device device) => inner.ValidationBatch(start, count, device);
    }
}
