using Tuner.Data;
using Tuner.Data.Datasets;
using Tuner.Training.Models;
using static TorchSharp.torch;

namespace Tuner.Training.Tasks;

/// <summary>The SmartWatch gestures: 3-axis sequences of 10-51 steps, 20 classes, padded per batch.</summary>
public sealed class GesturesTask : TrainingTask
{
    private readonly IReadOnlyList<GestureSequence> _train;
    private readonly IReadOnlyList<GestureSequence> _validation;

    /// <param name="validationFraction">Share of each gesture held out, chosen by <paramref name="splitSeed"/>.</param>
    public GesturesTask(IReadOnlyList<GestureSequence> sequences, double validationFraction, int splitSeed)
    {
        (_train, _validation) = DataSplit.Stratified(sequences, s => s.Label, validationFraction, splitSeed);
    }

    public override ModelInput Input { get; } = new(InputKind.Sequence, GesturesDataset.Features, GesturesDataset.Classes);

    /// <summary>The training split, in the index order batches refer to.</summary>
    public IReadOnlyList<GestureSequence> Train => _train;

    public IReadOnlyList<GestureSequence> Validation => _validation;

    public override int TrainCount => _train.Count;

    public override int ValidationCount => _validation.Count;

    public override TensorBatch TrainBatch(ReadOnlySpan<int> indices, Device device)
    {
        var selected = new GestureSequence[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            selected[i] = _train[indices[i]];
        }

        return ToTensors(selected, device);
    }

    public override TensorBatch ValidationBatch(int start, int count, Device device) =>
        ToTensors([.. _validation.Skip(start).Take(count)], device);

    private static TensorBatch ToTensors(IReadOnlyList<GestureSequence> sequences, Device device)
    {
        var padded = PaddedBatch.FromSequences([.. sequences.Select(s => s.Steps)]);
        var input = tensor(padded.Values, [padded.Size, padded.MaxLength, padded.Features], device: device);
        var lengths = tensor(padded.Lengths.Select(l => (long)l).ToArray(), device: device);
        var labels = tensor(sequences.Select(s => (long)s.Label).ToArray(), device: device);
        return new TensorBatch(input, lengths, labels);
    }
}
