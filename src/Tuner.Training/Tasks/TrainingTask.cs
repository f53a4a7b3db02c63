using Tuner.Core.Trainables;
using Tuner.Training.Models;
using static TorchSharp.torch;

namespace Tuner.Training.Tasks;

/// <summary>One batch on the trial's device; the caller disposes it (or its dispose scope does).</summary>
public sealed record TensorBatch(Tensor Input, Tensor Lengths, Tensor Labels);

/// <summary>
/// A classification data set split for training and validation, handing out batches as tensors:
/// training batches in whatever order the trainer asks, validation batches always the same.
/// </summary>
public abstract class TrainingTask
{
    public abstract ModelInput Input { get; }

    public abstract int TrainCount { get; }

    public abstract int ValidationCount { get; }

    /// <summary>The training examples at <paramref name="indices"/>, padded to the longest among them.</summary>
    public abstract TensorBatch TrainBatch(ReadOnlySpan<int> indices, Device device);

    /// <summary>Examples per validation or test batch: large for small inputs, smaller for photos.</summary>
    public virtual int EvaluationBatchSize => 256;

    /// <summary>Held-out examples neither training nor validation (model selection) sees; 0 when the task has none.</summary>
    public virtual int TestCount => 0;

    /// <summary>Test examples <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/>.</summary>
    public virtual TensorBatch TestBatch(int start, int count, Device device) => throw new NotSupportedException("this task has no test split");

    private int _epochSeed;

    /// <summary>Called by the trainer before each epoch's batches (also a resumed one): <see cref="ExampleRandom"/> draws from it.</summary>
    public void BeginEpoch(int seed, int epoch) => _epochSeed = SeededNoise.DeriveSeed(seed, epoch);

    /// <summary>A generator for training example <paramref name="index"/> in this epoch, the same whenever the epoch is run again (e.g. after a resume).</summary>
    protected Random ExampleRandom(int index) => new(SeededNoise.DeriveSeed(_epochSeed, index));

    /// <summary>Validation examples <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/>.</summary>
    public abstract TensorBatch ValidationBatch(int start, int count, Device device);
}
