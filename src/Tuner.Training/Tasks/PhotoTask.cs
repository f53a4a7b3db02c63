using Tuner.Core.Trainables;
using Tuner.Data.Datasets;
using Tuner.Training.Models;
using static TorchSharp.torch;

namespace Tuner.Training.Tasks;

/// <summary>
/// Labelled photos as 0-255 RGB batches of <c>size</c> x <c>size</c>, with the split their publisher made:
/// validation photos centre-cropped; training photos augmented (a random resized crop and a horizontal
/// flip, torchvision's recipe), each drawn from the trial's seed, the epoch and the photo, so a resumed
/// epoch sees the same crops. With <c>augment</c> off, training photos are centre-cropped too.
/// </summary>
public sealed class PhotoTask : TrainingTask
{
    private readonly LabelledImage[] _train;
    private readonly LabelledImage[] _validation;
    private readonly int _size;
    private readonly bool _augment;

    public PhotoTask(IReadOnlyList<LabelledImage> photos, int classes, int size, bool augment)
    {
        _train = [.. photos.Where(p => !p.Validation)];
        _validation = [.. photos.Where(p => p.Validation)];
        _size = size;
        _augment = augment;
        Input = new ModelInput(InputKind.Image, 3, classes, size, size);
    }

    public override ModelInput Input { get; }

    public override int TrainCount => _train.Length;

    public override int EvaluationBatchSize => 32;

    public override int ValidationCount => _validation.Length;

    public override TensorBatch TrainBatch(ReadOnlySpan<int> indices, Device device)
    {
        var images = new Tensor[indices.Length];
        var labels = new long[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            var photo = _train[indices[i]];
            images[i] = View(photo, _augment ? ExampleRandom(indices[i]) : null);
            labels[i] = photo.Label;
        }

        return Batch(images, labels, device);
    }

    public override TensorBatch ValidationBatch(int start, int count, Device device)
    {
        var photos = _validation[start..(start + count)];
        return Batch([.. photos.Select(p => View(p, null))], [.. photos.Select(p => (long)p.Label)], device);
    }

    /// <summary>The photos of one split in batches, as view <paramref name="view"/>: 0 the centre crop, others an augmentation seeded by the view and the photo (the same for every trial).</summary>
    public IEnumerable<Tensor> Views(bool validation, int view, int batchSize)
    {
        var photos = validation ? _validation : _train;
        for (var start = 0; start < photos.Length; start += batchSize)
        {
            var count = Math.Min(batchSize, photos.Length - start);
            yield return stack([.. Enumerable.Range(start, count).Select(i => View(photos[i], view == 0 ? null : new Random(SeededNoise.DeriveSeed(view, i))))]);
        }
    }

    public long[] Labels(bool validation) => [.. (validation ? _validation : _train).Select(p => (long)p.Label)];

    /// <summary>A photo as the network sees it: augmented with <paramref name="random"/>, else its centre square.</summary>
    private Tensor View(LabelledImage photo, Random? random) => random is null
        ? ImageTransforms.CenterCrop(ImageTransforms.ToTensor(photo.Image), _size)
        : ImageTransforms.RandomResizedCropAndFlip(ImageTransforms.ToTensor(photo.Image), _size, random);

    private static TensorBatch Batch(Tensor[] images, long[] labels, Device device) =>
        new(stack(images).to(device), zeros(images.Length, dtype: ScalarType.Int64, device: device), tensor(labels, device: device));
}
