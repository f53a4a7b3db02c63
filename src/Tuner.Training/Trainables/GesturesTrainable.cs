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
    public static TrainableDescriptor Descriptor { get; } = ClassifierDescriptors.Gestures with { Create = () => new GesturesTrainable() };

    protected override IReadOnlyList<string> Families { get; } = ["rnn", "cnn", "mlp"];

    protected override async Task<(TrainingTask Task, string Family)> LoadAsync(string model, double validationFraction, int splitSeed, CancellationToken cancellationToken)
    {
        var sequences = await GesturesDataset.LoadAsync(DataCache.Resolve(), cancellationToken).ConfigureAwait(false);
        return (new GesturesTask(sequences, validationFraction, splitSeed), model);
    }
}
