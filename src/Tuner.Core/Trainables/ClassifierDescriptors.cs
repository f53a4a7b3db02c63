namespace Tuner.Core.Trainables;

/// <summary>
/// What the control plane and workers know of the TorchSharp classifiers (names, metrics,
/// parameters) without loading TorchSharp: they run only in trial processes, whose registry
/// (Tuner.Training's <c>TrainableCatalog</c>) gives them their factories.
/// </summary>
public static class ClassifierDescriptors
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
        .. Enumerable.Range(1, 8).Select(k => new TrainableParameter($"units_{k}", false, $"units of dense layer {k} (default: units); e.g. tuned only when layers >= {k}")),
        new("activation", false, "relu, gelu, tanh or leaky_relu (default relu)"),
    ];

    public static TrainableDescriptor Gestures { get; } = new(
        "gestures",
        "SmartWatch gestures (20 classes) with a GRU/LSTM, 1-D CNN or MLP in TorchSharp",
        Metrics,
        [
            new("model", false, "rnn, cnn or mlp (default rnn)"),
            new("cell", false, "rnn: gru or lstm (default gru)"),
            new("hidden_size", false, "rnn: hidden units (default 64)"),
            new("num_layers", false, "rnn: stacked layers (default 1)"),
            new("bidirectional", false, "rnn: read both directions (default false)"),
            new("conv_layers", false, "cnn: convolution blocks (default 2)"),
            new("filters", false, "cnn: filters per convolution (default 32)"),
            new("kernel", false, "cnn: kernel width (default 3)"),
            new("pooling", false, "cnn: max, avg or none (default max)"),
            new("layers", false, "mlp: hidden layers (default 2)"),
            new("batch_norm", false, "cnn, mlp: batch normalisation (default false)"),
            .. TrainingParameters,
        ],
        InTrialProcess("gestures"),
        RunsInChildProcess: true);

    public static TrainableDescriptor Sentiment { get; } = new(
        "sentiment",
        "Sentiment labelled sentences with learned embeddings or a one-hot bag of words in TorchSharp",
        [.. Metrics, "test_accuracy"],
        [
            new("model", false, "embedding or bow (default embedding)"),
            new("embedding_dim", false, "embedding: vector size (default 64)"),
            new("encoder", false, "embedding: mean, max, gru or lstm (default mean)"),
            new("hidden_size", false, "embedding with gru/lstm: hidden units (default 64)"),
            new("num_layers", false, "embedding with gru/lstm: stacked layers (default 1)"),
            new("bidirectional", false, "embedding with gru/lstm: read both directions (default false)"),
            new("layers", false, "bow: hidden layers (default 2)"),
            new("batch_norm", false, "bow: batch normalisation (default false)"),
            new("test_fraction", false, "share of each class held out before the validation split, never selected on; its accuracy is test_accuracy (default 0.2)"),
            new("neighbour_words", false, "embedding: comma-separated words whose nearest neighbours embeddings/neighbours.txt lists"),
            .. TrainingParameters,
        ],
        InTrialProcess("sentiment"),
        RunsInChildProcess: true);

    public static TrainableDescriptor AntsBees { get; } = new(
        "ants_bees",
        "Ants or bees: transfer learning from a pretrained ResNet-18 with a new MLP head in TorchSharp",
        [.. Metrics, "feature_seconds"],
        [
            new("model", false, "resnet (default)"),
            new("weights", false, "imagenet (ML.NET's ResNet-18, default) or a torchvision ResNet state dict file"),
            new("unfreeze", false, "backbone parts trained: 0 none (cached features), 1-4 residual stages from the top, 5 all (default 0)"),
            new("backbone_lr", false, "learning rate of the unfrozen backbone (default lr / 10)"),
            new("augment", false, "random resized crops and flips of training photos (default true)"),
            new("feature_views", false, "unfreeze 0: views cached per training photo, the centre crop and augmentations (default 4)"),
            .. TrainingParameters.Where(p => p.Name is not ("validation_fraction" or "split_seed")),
        ],
        InTrialProcess("ants_bees"),
        RunsInChildProcess: true);

    private static Func<ITrainable> InTrialProcess(string name) =>
        () => throw new InvalidOperationException($"trainable '{name}' runs in a trial process (tuner-trial), not in the worker");
}
