using Tuner.Training.Models;
using static TorchSharp.torch;

namespace Tuner.Training.Tasks;

/// <summary>
/// Features a frozen network computed once: each training example as several views (the centre crop and
/// augmentations), of which each epoch uses one per example, drawn from the trial's seed, the epoch and the
/// example; the validation examples once each.
/// </summary>
public sealed class FeatureTask : TrainingTask
{
    private readonly CachedFeatures _features;

    public FeatureTask(CachedFeatures features, int classes)
    {
        _features = features;
        Input = new ModelInput(InputKind.Features, features.Width, classes);
    }

    public override ModelInput Input { get; }

    public override int TrainCount => _features.TrainLabels.Length;

    public override int ValidationCount => _features.ValidationLabels.Length;

    public override TensorBatch TrainBatch(ReadOnlySpan<int> indices, Device device)
    {
        var rows = new float[indices.Length * _features.Width];
        var labels = new long[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            var view = ExampleRandom(indices[i]).Next(_features.Views);
            _features.Train.AsSpan(((view * TrainCount) + indices[i]) * _features.Width, _features.Width).CopyTo(rows.AsSpan(i * _features.Width));
            labels[i] = _features.TrainLabels[indices[i]];
        }

        return Batch(rows, labels, device);
    }

    public override TensorBatch ValidationBatch(int start, int count, Device device) =>
        Batch(_features.Validation.AsSpan(start * _features.Width, count * _features.Width).ToArray(), _features.ValidationLabels.AsSpan(start, count).ToArray(), device);

    private TensorBatch Batch(float[] rows, long[] labels, Device device) =>
        new(tensor(rows, [labels.Length, _features.Width], device: device), zeros(labels.Length, dtype: ScalarType.Int64, device: device), tensor(labels, device: device));
}

/// <summary>Features of a data set: training rows as <c>[views, examples, width]</c>, validation rows as <c>[examples, width]</c>, with the labels.</summary>
public sealed record CachedFeatures(int Width, int Views, float[] Train, long[] TrainLabels, float[] Validation, long[] ValidationLabels)
{
    private const int Magic = 0x3146_5254; // "TRF1"

    public void Write(string path)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(Magic);
        writer.Write(Width);
        writer.Write(Views);
        writer.Write(TrainLabels.Length);
        writer.Write(ValidationLabels.Length);
        foreach (var label in TrainLabels.Concat(ValidationLabels))
        {
            writer.Write(label);
        }

        foreach (var value in Train.Concat(Validation))
        {
            writer.Write(value);
        }
    }

    public static CachedFeatures Read(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        if (reader.ReadInt32() != Magic)
        {
            throw new InvalidDataException($"{path} is not a feature cache file");
        }

        var (width, views, train, validation) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        var trainLabels = Enumerable.Range(0, train).Select(_ => reader.ReadInt64()).ToArray();
        var validationLabels = Enumerable.Range(0, validation).Select(_ => reader.ReadInt64()).ToArray();
        var trainRows = Floats(reader, views * train * width, path);
        var validationRows = Floats(reader, validation * width, path);
        return new CachedFeatures(width, views, trainRows, trainLabels, validationRows, validationLabels);
    }

    private static float[] Floats(BinaryReader reader, int count, string path)
    {
        var bytes = reader.ReadBytes(count * sizeof(float));
        if (bytes.Length != count * sizeof(float))
        {
            throw new InvalidDataException($"{path} is cut short");
        }

        var values = new float[count];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
