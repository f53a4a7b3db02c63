using System.Collections;
using System.Text.RegularExpressions;
using TorchSharp.PyBridge;
using Tuner.Data.Cache;
using Tuner.Data.Pretrained;
using Tuner.Training.Models.Pretrained.Onnx;
using static TorchSharp.torch;

namespace Tuner.Training.Models.Pretrained;

/// <summary>
/// A pretrained ResNet backbone with the input preprocessing its weights expect. The ImageNet ResNet-18
/// ML.NET publishes (<see cref="ImageNetResNet18Async"/>) takes 224x224 images of 0-255 values in BGR
/// order minus a mean image; PyTorch state dicts (<see cref="FromStateDict"/>, e.g. torchvision's
/// <c>resnet18</c>) take RGB in [0, 1] normalised by ImageNet's mean and deviation.
/// </summary>
public sealed partial class PretrainedResNet : IDisposable
{
    /// <summary>The side of the square images the ImageNet ResNet-18's mean image is made for.</summary>
    public const int ImageSize = 224;

    private readonly Tensor? _meanImage;
    private readonly Tensor? _mean;
    private readonly Tensor? _std;

    private PretrainedResNet(ResNet network, string source, Tensor? meanImage, Tensor? mean, Tensor? std)
    {
        Network = network;
        Source = source;
        _meanImage = meanImage;
        _mean = mean;
        _std = std;
    }

    public ResNet Network { get; }

    /// <summary>Where the weights came from, for messages and cache keys.</summary>
    public string Source { get; }

    /// <summary>The ImageNet-pretrained ResNet-18 from <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>, mapped from its ONNX graph.</summary>
    public static async Task<PretrainedResNet> ImageNetResNet18Async(DataCache cache, CancellationToken cancellationToken = default)
    {
        var (model, preprocess) = await ResNet18Files.LocateAsync(cache, cancellationToken).ConfigureAwait(false);
        return FromOnnx(model, preprocess);
    }

    /// <summary>A ResNet read from an ONNX graph, with the mean image its preprocessing graph subtracts (after RGB to BGR).</summary>
    public static PretrainedResNet FromOnnx(string modelPath, string preprocessPath)
    {
        var graph = OnnxGraph.Load(preprocessPath);
        var sub = graph.Nodes.SingleOrDefault(n => n.OpType == "Sub") ?? throw new InvalidDataException($"{preprocessPath}: expected the mean image's Sub node");
        var (values, dims) = graph.Initializer(sub.Input[1]);
        var meanImage = tensor(values, dims);
        return new PretrainedResNet(ResNetOnnxImporter.Load(modelPath), ResNet18Files.Model.RelativePath, meanImage, null, null);
    }

    /// <summary>
    /// A basic-block ResNet from a PyTorch state dict (<c>torch.save(model.state_dict(), path)</c>), named as
    /// torchvision names it; its blocks per stage are read from the names (resnet18: 2, 2, 2, 2; resnet34: 3, 4, 6, 3).
    /// The classifier (<c>fc.*</c>) is left out: a new head replaces it.
    /// </summary>
    public static PretrainedResNet FromStateDict(string path)
    {
        Hashtable dict;
        using (var stream = File.OpenRead(path))
        {
            dict = PyTorchUnpickler.UnpickleStateDict(stream);
        }

        var tensors = dict.Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (Tensor)e.Value!, StringComparer.Ordinal);
        try
        {
            if (tensors.Keys.Any(k => k.Contains(".conv3.", StringComparison.Ordinal)))
            {
                throw new InvalidDataException($"{path}: bottleneck ResNets (resnet50 and up) are not supported; basic-block ones (resnet18, resnet34) are");
            }

            var blocks = new int[4];
            foreach (var key in tensors.Keys)
            {
                if (BlockName().Match(key) is { Success: true } m)
                {
                    var stage = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) - 1;
                    blocks[stage] = Math.Max(blocks[stage], int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) + 1);
                }
            }

            if (blocks.Any(b => b == 0))
            {
                throw new InvalidDataException($"{path} is not a torchvision ResNet state dict: expected layer1..layer4 blocks, found keys {string.Join(", ", tensors.Keys.Take(8))}");
            }

            var network = new ResNet(ResNetSpec.Torchvision(blocks));
            try
            {
                // copy_ converts each tensor to the parameter's type; the classifier and counters are not loaded.
                network.LoadWeights(tensors.Where(p => !p.Key.StartsWith("fc.", StringComparison.Ordinal) && !p.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal), path);
                network.eval();
            }
            catch
            {
                network.Dispose();
                throw;
            }

            return new PretrainedResNet(network, Path.GetFileName(path), null, tensor(new[] { 0.485f, 0.456f, 0.406f }).reshape(1, 3, 1, 1), tensor(new[] { 0.229f, 0.224f, 0.225f }).reshape(1, 3, 1, 1));
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>Turns RGB images of 0-255 values, <c>[batch, 3, height, width]</c>, into what the network was trained on.</summary>
    public Tensor Preprocess(Tensor rgb)
    {
        if (_meanImage is not null)
        {
            if (rgb.shape[2] != ImageSize || rgb.shape[3] != ImageSize)
            {
                throw new ArgumentException($"the ImageNet ResNet-18 takes {ImageSize}x{ImageSize} images, got {rgb.shape[3]}x{rgb.shape[2]}", nameof(rgb));
            }

            return rgb.flip(1) - _meanImage.to(rgb.device);
        }

        return ((rgb / 255) - _mean!.to(rgb.device)) / _std!.to(rgb.device);
    }

    public void Dispose()
    {
        Network.Dispose();
        _meanImage?.Dispose();
        _mean?.Dispose();
        _std?.Dispose();
    }

    [GeneratedRegex(@"^layer([1-4])\.(\d+)\.")]
    private static partial Regex BlockName();
}
