using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using Tuner.Core.Space;
using Tuner.Core.Trainables;
using Tuner.Training.Configuration;
using Tuner.Training.Models;
using Tuner.Training.Schedules;
using Tuner.Training.Tasks;
using static TorchSharp.torch;

namespace Tuner.Training.Training;

/// <summary>
/// Trains one model on one task, an epoch at a time: seeded shuffles, cross-entropy, the configured
/// optimiser and learning-rate schedule, then a validation pass. Cancellation is checked before
/// every batch, so a stop takes at most one batch; the trainer then holds a consistent state in the
/// middle of the epoch, which <see cref="Save"/> records and <see cref="Restore"/> continues from,
/// reproducing an uninterrupted run (same batches, same dropout masks).
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly nn.Module<Tensor, Tensor, Tensor> _model;
    private readonly TrainingTask _task;
    private readonly OptimizerHelper _optimizer;
    private readonly LearningRateSchedule _schedule;
    private readonly CrossEntropyLoss _loss = nn.CrossEntropyLoss();
    private readonly Device _device;
    private int _seed;
    private readonly int _batchSize;
    private double[] _rateScales = [1.0];

    // Progress within the current epoch, so a stop between batches can be saved and continued.
    private int _batch;
    private double _lossSum;
    private long _seen;

    private Trainer(nn.Module<Tensor, Tensor, Tensor> model, TrainingTask task, OptimizerHelper optimizer, LearningRateSchedule schedule, Device device, int seed, int batchSize)
    {
        _model = model;
        _task = task;
        _optimizer = optimizer;
        _schedule = schedule;
        _device = device;
        _seed = seed;
        _batchSize = batchSize;
        ParameterCount = model.ParameterCount();
    }

    /// <summary>Epochs completed.</summary>
    public int Epoch { get; private set; }

    public long ParameterCount { get; }

    /// <summary>
    /// Builds the model family <paramref name="family"/> from <paramref name="config"/> (seeded, so the
    /// same config and seed give the same initial weights), its optimiser and its schedule over
    /// <paramref name="epochs"/> epochs. A trainer owns torch's process-wide random generator (seeded here,
    /// drawn from by dropout, saved and restored with its checkpoints), so a process trains one trial at a
    /// time; the worker gives every torch trial a process of its own.
    /// </summary>
    public static Trainer Create(TrainingTask task, string family, TrialConfig config, int seed, int epochs, Device device) =>
        Create(task, () => ModelFactory.Create(family, task.Input, config), config, seed, epochs, device);

    /// <summary>
    /// As <see cref="Create(TrainingTask, string, TrialConfig, int, int, Device)"/> with a model the caller builds
    /// (after torch's generator is seeded). A model with <see cref="IParameterGroups"/> trains each group at its
    /// share of the scheduled rate; otherwise every trainable parameter trains at the rate.
    /// </summary>
    public static Trainer Create(TrainingTask task, Func<nn.Module<Tensor, Tensor, Tensor>> createModel, TrialConfig config, int seed, int epochs, Device device)
    {
        var read = new ConfigReader(config);
        var batchSize = read.Integer("batch_size", 32, 1, 65536);
        var schedule = LearningRateSchedule.FromConfig(config, epochs);
        random.manual_seed(seed);
        var model = createModel();
        try
        {
            model.to(device);
            var groups = model is IParameterGroups grouped ? grouped.ParameterGroups : [([.. model.parameters().Where(p => p.requires_grad)], 1.0)];
            var optimizer = OptimizerFactory.Create(groups, read, schedule.Current);
            return new Trainer(model, task, optimizer, schedule, device, seed, batchSize) { _rateScales = [.. groups.Select(g => g.RateScale)] };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Trains the rest of the current epoch, validates, and moves the schedule on.</summary>
    public EpochMetrics RunEpoch(CancellationToken cancellationToken)
    {
        var lr = _schedule.Current;
        _optimizer.ApplyLearningRate(_schedule, _rateScales);
        _task.BeginEpoch(_seed, Epoch);
        var order = EpochOrder(_task.TrainCount, _seed, Epoch);
        var batches = (order.Length + _batchSize - 1) / _batchSize;
        _model.train();
        while (_batch < batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var start = _batch * _batchSize;
            var count = Math.Min(_batchSize, order.Length - start);
            var loss = NativeScalars.WithoutCollection(() => TrainStep(_task.TrainBatch(order.AsSpan(start, count), _device)));
            _lossSum += loss * count;
            _seen += count;
            _batch++;
        }

        var (validLoss, accuracy) = Validate(cancellationToken);

        // TorchSharp leaves the native scalars it makes implicitly to finalizers; training steps run
        // without collections (NativeScalars), so they pile up across an epoch. Free them here, once
        // an epoch, instead of whenever the heap happens to fill: memory stays flat from epoch to epoch.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var metrics = new EpochMetrics(_seen == 0 ? double.NaN : _lossSum / _seen, validLoss, accuracy, lr);
        _schedule.Step(validLoss);
        Epoch++;
        _batch = 0;
        _lossSum = 0;
        _seen = 0;
        return metrics;
    }

    private float TrainStep(TensorBatch batch)
    {
        _optimizer.zero_grad();
        var loss = _loss.call(_model.call(batch.Input, batch.Lengths), batch.Labels);
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }

    /// <summary>Mean cross-entropy and accuracy over the validation split, in evaluation mode.</summary>
    public (double Loss, double Accuracy) Validate(CancellationToken cancellationToken) =>
        Evaluate(_task.ValidationCount, _task.ValidationBatch, cancellationToken);

    /// <summary>Mean cross-entropy and accuracy over the task's held-out test split (NaN when it has none).</summary>
    public (double Loss, double Accuracy) Test(CancellationToken cancellationToken) =>
        Evaluate(_task.TestCount, _task.TestBatch, cancellationToken);

    /// <summary>The model, to look into after training (e.g. its learned embeddings).</summary>
    public nn.Module<Tensor, Tensor, Tensor> Model => _model;

    private (double Loss, double Accuracy) Evaluate(int examples, Func<int, int, Device, TensorBatch> batches, CancellationToken cancellationToken)
    {
        _model.eval();
        using var noGrad = no_grad();
        double lossSum = 0;
        long correct = 0;
        for (var start = 0; start < examples; start += _task.EvaluationBatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var count = Math.Min(_task.EvaluationBatchSize, examples - start);
            var (loss, right) = NativeScalars.WithoutCollection(() =>
            {
                var batch = batches(start, count, _device);
                var output = _model.call(batch.Input, batch.Lengths);
                return (_loss.call(output, batch.Labels).item<float>(), output.argmax(1).eq(batch.Labels).sum().item<long>());
            });
            lossSum += loss * count;
            correct += right;
        }

        return examples == 0 ? (double.NaN, double.NaN) : (lossSum / examples, (double)correct / examples);
    }

    /// <summary>Writes the model, the optimiser, the schedule, the progress (also within an epoch), the seed and the random state.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        _model.save(Path.Combine(directory, "model.bin"));
        _optimizer.save_state_dict(Path.Combine(directory, "optimizer.bin"));
        using (var rng = random.get_rng_state())
        {
            File.WriteAllBytes(Path.Combine(directory, "rng.bin"), rng.data<byte>().ToArray());
        }

        var state = new TrainerState(_seed, Epoch, _batch, _lossSum, _seen, _schedule.State());
        File.WriteAllText(Path.Combine(directory, "trainer.json"), JsonSerializer.Serialize(state, TrainerStateJson.Default.TrainerState));
    }

    /// <summary>Continues from a folder written by <see cref="Save"/> of a trainer built from the same config.</summary>
    public void Restore(string directory)
    {
        var state = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(directory, "trainer.json")), TrainerStateJson.Default.TrainerState)
            ?? throw new InvalidDataException($"{directory}/trainer.json is empty");
        _model.load(Path.Combine(directory, "model.bin"));
        _optimizer.load_state_dict(Path.Combine(directory, "optimizer.bin"));
        using (var rng = tensor(File.ReadAllBytes(Path.Combine(directory, "rng.bin"))))
        {
            random.set_rng_state(rng);
        }

        _schedule.Restore(state.Schedule);
        _seed = state.Seed;
        Epoch = state.Epoch;
        _batch = state.Batch;
        _lossSum = state.LossSum;
        _seen = state.Seen;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _loss.Dispose();
        _model.Dispose();
    }

    /// <summary>The order the training examples are visited in, in epoch <paramref name="epoch"/> (0-based) of a trainer seeded <paramref name="seed"/>.</summary>
    public static int[] EpochOrder(int count, int seed, int epoch)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(SeededNoise.DeriveSeed(seed, epoch)).Shuffle(order);
        return order;
    }
}

internal sealed record TrainerState(int Seed, int Epoch, int Batch, double LossSum, long Seen, double[] Schedule);

[System.Text.Json.Serialization.JsonSerializable(typeof(TrainerState))]
internal sealed partial class TrainerStateJson : System.Text.Json.Serialization.JsonSerializerContext;
