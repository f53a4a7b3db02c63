using Tuner.Core.Trainables;
using Tuner.Training.Configuration;
using Tuner.Training.Tasks;
using Tuner.Training.Training;
using static TorchSharp.torch;

namespace Tuner.Training.Trainables;

/// <summary>
/// A TorchSharp classifier as a trainable: one step is one epoch reporting <c>train_loss</c>,
/// <c>valid_loss</c>, <c>accuracy</c>, <c>lr</c> and <c>parameters</c> (the model's weight count);
/// done after <c>epochs</c>. Checkpoints hold everything the <see cref="Trainer"/> needs to continue
/// exactly, also from the middle of an epoch.
/// </summary>
public abstract class ClassifierTrainable : ITrainable
{
    private readonly Dictionary<string, double> _metrics = new(ClassifierDescriptors.Metrics.Count, StringComparer.Ordinal);
    private Trainer? _trainer;
    private int _epochs;

    /// <summary>The model families this trainable accepts in <c>model</c>; the first is the default.</summary>
    protected abstract IReadOnlyList<string> Families { get; }

    /// <summary>The data, split with <paramref name="splitSeed"/>, shaped for the family (e.g. one-hot for a bag of words).</summary>
    protected abstract Task<(TrainingTask Task, string Family)> LoadAsync(string model, double validationFraction, int splitSeed, CancellationToken cancellationToken);

    /// <summary>The trainer, once set up.</summary>
    protected Trainer? Trainer => _trainer;

    /// <summary>The epochs the trial trains for.</summary>
    protected int Epochs => _epochs;

    /// <summary>The trial being set up or trained: its config, seed and device.</summary>
    protected TrialContext? Context { get; private set; }

    public async ValueTask SetupAsync(TrialContext context, CancellationToken cancellationToken)
    {
        Context = context;
        TorchRuntime.EnsureInitialized();
        var read = new ConfigReader(context.Config);
        var model = read.Choice("model", Families[0], Families);
        _epochs = read.Integer("epochs", 10, 1, 100_000);
        var (task, family) = await LoadAsync(model, read.Fraction("validation_fraction", 0.2), read.Integer("split_seed", 0, 0, int.MaxValue), cancellationToken).ConfigureAwait(false);
        _trainer = CreateTrainer(task, family, context, _epochs, TorchRuntime.ResolveDevice(context.Device));
    }

    /// <summary>The trainer of the family's model; a trainable with a model of its own builds it here.</summary>
    protected virtual Trainer CreateTrainer(TrainingTask task, string family, TrialContext context, int epochs, Device device) =>
        Trainer.Create(task, family, context.Config, context.Seed, epochs, device);

    /// <summary>Metrics a trainable reports besides the classifiers' own, every epoch.</summary>
    protected virtual void AddMetrics(Dictionary<string, double> metrics)
    {
    }

    public ValueTask<StepResult> StepAsync(CancellationToken cancellationToken)
    {
        var trainer = _trainer ?? throw new InvalidOperationException("SetupAsync first");
        var epoch = trainer.RunEpoch(cancellationToken);
        _metrics["train_loss"] = epoch.TrainLoss;
        _metrics["valid_loss"] = epoch.ValidLoss;
        _metrics["accuracy"] = epoch.Accuracy;
        _metrics["lr"] = epoch.LearningRate;
        _metrics["parameters"] = trainer.ParameterCount;
        AddMetrics(_metrics);
        return ValueTask.FromResult(new StepResult(_metrics, trainer.Epoch >= _epochs));
    }

    public ValueTask SaveCheckpointAsync(string directory, CancellationToken cancellationToken)
    {
        (_trainer ?? throw new InvalidOperationException("SetupAsync first")).Save(directory);
        return ValueTask.CompletedTask;
    }

    public ValueTask RestoreCheckpointAsync(string directory, CancellationToken cancellationToken)
    {
        (_trainer ?? throw new InvalidOperationException("SetupAsync first")).Restore(directory);
        return ValueTask.CompletedTask;
    }

    public virtual ValueTask DisposeAsync()
    {
        _trainer?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
