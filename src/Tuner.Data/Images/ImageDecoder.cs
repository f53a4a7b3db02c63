using SkiaSharp;

namespace Tuner.Data.Images;

/// <summary>An image as 8-bit RGB, row by row (height x width x 3).</summary>
public sealed record RgbImage(int Width, int Height, byte[] Pixels)
{
    /// <summary>Decodes a JPEG or PNG and scales it so its shorter side is <paramref name="shorterSide"/> (bilinear, with mipmaps for large reductions).</summary>
    public static RgbImage Decode(Stream encoded, int shorterSide, string name)
    {
        using var original = SKBitmap.Decode(encoded) ?? throw new InvalidDataException($"{name} is not an image SkiaSharp can decode");
        var scale = (double)shorterSide / Math.Min(original.Width, original.Height);
        var width = Math.Max(1, (int)Math.Round(original.Width * scale));
        var height = Math.Max(1, (int)Math.Round(original.Height * scale));
        using var scaled = original.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
            ?? throw new InvalidDataException($"{name} could not be scaled to {width}x{height}");
        var rgba = scaled.GetPixelSpan();
        var rgb = new byte[width * height * 3];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgb[i] = rgba[j];
            rgb[i + 1] = rgba[j + 1];
            rgb[i + 2] = rgba[j + 2];
        }

        return new RgbImage(width, height, rgb);
    }
}
