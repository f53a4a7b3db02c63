using Tuner.Core.Trainables;
using Tuner.Data.Cache;
using Tuner.Data.Datasets;
using Tuner.Training.Tasks;

namespace Tuner.Training.Trainables;

/// <summary>
/// The course's <c>hypertune.py</c> in C#: classify SmartWatch gestures with an rnn (GRU or LSTM,
/// the default), a 1-D cnn or an mlp, each built from the config.
/// </summary>
public sealed class GesturesTrainable : ClassifierTrainable
{
    public static TrainableDescriptor Descriptor { get; } = new(
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
        () => new GesturesTrainable(),
        RunsInChildProcess: true);

    protected override IReadOnlyList<string> Families { get; } = ["rnn", "cnn", "mlp"];

    protected override async Task<(TrainingTask Task, string Family)> LoadAsync(string model, double validationFraction, int splitSeed, CancellationToken cancellationToken)
    {
        var sequences = await GesturesDataset.LoadAsync(DataCache.Resolve(), cancellationToken).ConfigureAwait(false);
        return (new GesturesTask(sequences, validationFraction, splitSeed), model);
    }
}
