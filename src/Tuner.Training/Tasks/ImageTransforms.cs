using Tuner.Data.Images;
using static TorchSharp.torch;

namespace Tuner.Training.Tasks;

/// <summary>
/// torchvision's transforms for training on photos, on 0-255 RGB tensors <c>[3, height, width]</c>:
/// the validation view (the centre square) and the training augmentation (a random resized crop and a
/// horizontal flip), each drawing only from the <see cref="Random"/> it is given, so a seeded epoch is
/// reproducible.
/// </summary>
public static class ImageTransforms
{
    /// <summary>The image as a float tensor <c>[3, height, width]</c> of 0-255 values.</summary>
    public static Tensor ToTensor(RgbImage image) =>
        tensor(image.Pixels, [image.Height, image.Width, 3]).permute(2, 0, 1).to_type(ScalarType.Float32);

    /// <summary>The centre <paramref name="size"/> x <paramref name="size"/> square (the image's shorter side must be at least that).</summary>
    public static Tensor CenterCrop(Tensor image, int size)
    {
        var (height, width) = (image.shape[1], image.shape[2]);
        if (height < size || width < size)
        {
            return Resize(image, size, size);
        }

        return image.narrow(1, (height - size) / 2, size).narrow(2, (width - size) / 2, size);
    }

    /// <summary>
    /// torchvision's <c>RandomResizedCrop</c>: a crop of a random share (<paramref name="minScale"/> to 1) of the
    /// area with an aspect ratio between 3/4 and 4/3, resized to <paramref name="size"/> squared; then a
    /// horizontal flip half the time.
    /// </summary>
    public static Tensor RandomResizedCropAndFlip(Tensor image, int size, Random random, double minScale = 0.25)
    {
        var (height, width) = ((int)image.shape[1], (int)image.shape[2]);
        var area = (double)height * width;
        Tensor? crop = null;
        for (var attempt = 0; attempt < 10 && crop is null; attempt++)
        {
            var target = area * (minScale + (random.NextDouble() * (1 - minScale)));
            var ratio = Math.Exp(Math.Log(3.0 / 4) + (random.NextDouble() * (Math.Log(4.0 / 3) - Math.Log(3.0 / 4))));
            var w = (int)Math.Round(Math.Sqrt(target * ratio));
            var h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= width && h <= height)
            {
                var top = random.Next(0, height - h + 1);
                var left = random.Next(0, width - w + 1);
                crop = image.narrow(1, top, h).narrow(2, left, w);
            }
        }

        var resized = Resize(crop ?? CenterCrop(image, Math.Min(height, width)), size, size);
        return random.NextDouble() < 0.5 ? resized.flip(2) : resized;
    }

    private static Tensor Resize(Tensor image, int height, int width) =>
        nn.functional.interpolate(image.unsqueeze(0), [height, width], mode: InterpolationMode.Bilinear, align_corners: false).squeeze(0);
}
