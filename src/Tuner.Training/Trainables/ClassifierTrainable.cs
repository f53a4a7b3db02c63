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
    public static IReadOnlyList<string> Metrics { get; } = ["train_loss", "valid_loss", "accuracy", "lr", "parameters"];

    /// <summary>What every classifier reads besides its model family's keys.</summary>
    public static IReadOnlyList<TrainableParameter> TrainingParameters { get; } =
    [
        new("epochs", false, "epochs to train (default 10)"),
        new("batch_size", false, "examples per batch (default 32)"),
        new("optimizer", false, "sgd, adam or adamw (default adam)"),
        new("lr", false, "learning rate (default 0.001)"),
        new("weight_decay", false, "L2 penalty (default 0; 0.01 for adamw)"),
        new("momentum", false, "sgd momentum (default 0.9)"),
        new("lr_scheduler", false, "none, step, cosine, plateau or onecycle (default none)"),
        new("step_size", false, "step: epochs between decays (default 10)"),
        new("gamma", false, "step: decay factor (default 0.1)"),
        new("warmup_epochs", false, "cosine: linear warm-up epochs (default 0)"),
        new("min_lr", false, "cosine, plateau: lowest rate (default 0)"),
        new("factor", false, "plateau: decay factor (default 0.1)"),
        new("patience", false, "plateau: epochs without improvement before decaying (default 10)"),
        new("max_lr", false, "onecycle: peak rate (default 10 x lr)"),
        new("pct_start", false, "onecycle: share of epochs rising (default 0.3)"),
        new("validation_fraction", false, "share of each class held out for validation (default 0.2)"),
        new("split_seed", false, "seed of the train/validation split, the same for all trials (default 0)"),
        new("dropout", false, "dropout probability (default 0)"),
        new("dense_layers", false, "hidden dense layers after the encoder"),
        new("units", false, "units per dense layer (default 64)"),
        new("activation", false, "relu, gelu, tanh or leaky_relu (default relu)"),
    ];

    private readonly Dictionary<string, double> _metrics = new(Metrics.Count, StringComparer.Ordinal);
    private Trainer? _trainer;
    private int _epochs;

    /// <summary>The model families this trainable accepts in <c>model</c>; the first is the default.</summary>
    protected abstract IReadOnlyList<string> Families { get; }

    /// <summary>The data, split with <paramref name="splitSeed"/>, shaped for the family (e.g. one-hot for a bag of words).</summary>
    protected abstract Task<(TrainingTask Task, string Family)> LoadAsync(string model, double validationFraction, int splitSeed, CancellationToken cancellationToken);

    public async ValueTask SetupAsync(TrialContext context, CancellationToken cancellationToken)
    {
        TorchRuntime.EnsureInitialized();
        var read = new ConfigReader(context.Config);
        var model = read.Choice("model", Families[0], Families);
        _epochs = read.Integer("epochs", 10, 1, 100_000);
        var (task, family) = await LoadAsync(model, read.Fraction("validation_fraction", 0.2), read.Integer("split_seed", 0, 0, int.MaxValue), cancellationToken).ConfigureAwait(false);
        _trainer = Trainer.Create(task, family, context.Config, context.Seed, _epochs, TorchRuntime.ResolveDevice(context.Device));
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

    public ValueTask DisposeAsync()
    {
        _trainer?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
