using Tuner.Training.Tasks;
using Tuner.Training.Training;
using static TorchSharp.torch;

namespace Tuner.Training.Tests;

/// <summary>
/// Torch's random generator is one per process: dropout masks and initial weights draw from it, and a
/// trainer saves and restores it with its checkpoint. In production each trial has a process of its own;
/// here the tests that need an exact sequence of draws run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(TorchGeneratorOwners), DisableParallelization = true)]
public sealed class TorchGeneratorOwners;

[Collection(nameof(TorchGeneratorOwners))]
public sealed class TrainerResumeTests
{
    public TrainerResumeTests() => TorchRuntime.EnsureInitialized();

    /// <summary>
    /// The GRU with dropout between layers and a cosine schedule, stopped in the middle of its second
    /// epoch, saved, and continued by a new trainer, reports what an uninterrupted run reports.
    /// </summary>
    [Fact]
    public void Resume_FromTheMiddleOfAnEpoch_ContinuesExactlyAsAnUninterruptedRun()
    {
        set_num_threads(2);
        var config = ModelFactoryTests.Config(("hidden_size", 32), ("num_layers", 2), ("dropout", 0.2), ("lr", 0.003), ("lr_scheduler", "cosine"), ("warmup_epochs", 1));
        var data = new GesturesTask(TrainerTests.Sequences.Value, 0.2, splitSeed: 0);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var token = TestContext.Current.CancellationToken;

        EpochMetrics[] expected;
        using (var uninterrupted = Trainer.Create(data, "rnn", config, seed: 7, epochs: 3, CPU))
        {
            expected = [.. Enumerable.Range(0, 3).Select(_ => uninterrupted.RunEpoch(token))];
        }

        var checkpoint = Directory.CreateTempSubdirectory("tuner-resume-").FullName;
        try
        {
            var batchesPerEpoch = (data.TrainCount + 31) / 32;
            var interrupting = new TrainerTests.InterruptingTask(data, cancelAtBatch: batchesPerEpoch + 30, cancellation);
            EpochMetrics first;
            using (var interrupted = Trainer.Create(interrupting, "rnn", config, seed: 7, epochs: 3, CPU))
            {
                first = interrupted.RunEpoch(cancellation.Token);
                Assert.Throws<OperationCanceledException>(() => interrupted.RunEpoch(cancellation.Token));
                interrupted.Save(checkpoint);
            }

            // Another seed and fresh weights: everything that matters must come from the checkpoint.
            using var resumed = Trainer.Create(data, "rnn", config, seed: 99, epochs: 3, CPU);
            resumed.Restore(checkpoint);
            Assert.Equal(1, resumed.Epoch);
            EpochMetrics[] actual = [first, resumed.RunEpoch(token), resumed.RunEpoch(token)];

            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i].TrainLoss, actual[i].TrainLoss, 5);
                Assert.Equal(expected[i].ValidLoss, actual[i].ValidLoss, 5);
                Assert.Equal(expected[i].Accuracy, actual[i].Accuracy, 5);
                Assert.Equal(expected[i].LearningRate, actual[i].LearningRate, 12);
            }
        }
        finally
        {
            Directory.Delete(checkpoint, recursive: true);
        }
    }
}
