using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tuner.Data.Datasets;
using Tuner.Data.Pretrained;
using Tuner.Training.Models.Pretrained;
using Tuner.Training.Tasks;
using static TorchSharp.torch;

namespace Tuner.Training.Tests;

public sealed class PretrainedResNetTests
{
    internal static readonly Lazy<IReadOnlyList<LabelledImage>> Photos = new(() => HymenopteraDataset.LoadAsync(SharedData.Cache, 256).GetAwaiter().GetResult());

    public PretrainedResNetTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public async Task TheImageNetResNet18_GivesOnnxRuntimesFeatures_ForRealPhotos()
    {
        set_num_threads(2);
        var (modelPath, preprocessPath) = await ResNet18Files.LocateAsync(SharedData.Cache, TestContext.Current.CancellationToken);
        using var resnet = await PretrainedResNet.ImageNetResNet18Async(SharedData.Cache, TestContext.Current.CancellationToken);

        // An ant and a bee from the validation photos, centre-cropped to 224 x 224, 0-255 RGB.
        var photos = new[] { Photos.Value.First(p => p.Validation && p.Label == 0), Photos.Value.First(p => p.Validation && p.Label == 1) };
        using var batch = stack(photos.Select(p => ImageTransforms.CenterCrop(ImageTransforms.ToTensor(p.Image), 224)).ToArray());

        // Ours: the preprocessing and the mapped network in TorchSharp.
        float[][] ours;
        using (no_grad())
        using (var features = resnet.Network.call(resnet.Preprocess(batch)))
        {
            Assert.Equal([2L, 512], features.shape);
            ours = [.. Enumerable.Range(0, 2).Select(i => features[i].data<float>().ToArray())];
        }

        // ONNX Runtime's: the package's two graphs as published.
        using var preprocess = new InferenceSession(preprocessPath);
        using var model = new InferenceSession(modelPath);
        for (var i = 0; i < photos.Length; i++)
        {
            var input = new DenseTensor<float>(batch[i].contiguous().data<float>().ToArray(), [1, 3, 224, 224]);
            using var prepared = preprocess.Run([NamedOnnxValue.CreateFromTensor("OriginalInput", input)]);
            using var output = model.Run([NamedOnnxValue.CreateFromTensor("Input247", prepared.Single().AsTensor<float>())]);
            var theirs = output.Single(o => o.Name == "Pooling395_Output_0").AsTensor<float>().ToArray();

            Assert.Equal(512, theirs.Length);
            var worst = theirs.Zip(ours[i], (a, b) => Math.Abs(a - b)).Max();
            TestContext.Current.SendDiagnosticMessage($"{photos[i].Name}: largest difference {worst:E2}, largest feature {theirs.Max():F3}");
            Assert.True(worst <= 1e-3, $"{photos[i].Name}: TorchSharp's features differ from ONNX Runtime's by up to {worst}");
            Assert.True(theirs.Max() > 1, "the features are all near zero: the comparison would prove nothing");
        }

        // Two different photos, two different feature vectors.
        Assert.True(ours[0].Zip(ours[1], (a, b) => Math.Abs(a - b)).Max() > 0.5);
    }

    [Fact]
    public async Task TheOnnxGraph_IsReadByItsStructure_AsymmetricPaddingAndAThreeBlockLastStage()
    {
        var (modelPath, _) = await ResNet18Files.LocateAsync(SharedData.Cache, TestContext.Current.CancellationToken);

        var (spec, weights) = ResNetOnnxImporter.Read(Models.Pretrained.Onnx.OnnxGraph.Load(modelPath));

        Assert.Equal([2, 2, 2, 3], spec.Stages.Select(s => s.Count));
        Assert.Equal(new Padding(3, 3, 2, 2), spec.StemPadding);
        Assert.Equal(new Padding(1, 1, 0, 0), spec.PoolPadding);
        Assert.All(spec.Stages.Skip(1), s => Assert.Equal((2, new Padding(1, 1, 0, 0), true), (s[0].Stride, s[0].FirstPadding, s[0].Projection)));
        Assert.All(spec.Stages.SelectMany(s => s.Skip(1)), b => Assert.Equal((1, Padding.Same(1), false), (b.Stride, b.FirstPadding, b.Projection)));
        Assert.Equal([64, 128, 256, 512], spec.Stages.Select(s => s[^1].OutChannels));

        // 22 convolutions, 22 batch norms of 4 tensors each.
        Assert.Equal(22 + (22 * 4), weights.Count);
        Assert.Equal([512L, 512, 3, 3], weights["layer4.2.conv2.weight"].Dims);
    }

    [Fact]
    public async Task AGraphThatIsNoResNet_IsRefused_NamingTheFileAndWhatWasFound()
    {
        var (_, preprocessPath) = await ResNet18Files.LocateAsync(SharedData.Cache, TestContext.Current.CancellationToken);

        var error = Assert.Throws<InvalidDataException>(() => ResNetOnnxImporter.Load(preprocessPath));

        Assert.Contains(preprocessPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("expected one Conv", error.Message, StringComparison.Ordinal);
    }
}

public sealed class TorchvisionStateDictTests
{
    public TorchvisionStateDictTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void ATorchvisionResNet18StateDict_Loads_AndGivesPyTorchsFeatures()
    {
        set_num_threads(2);
        var dir = Directory.CreateTempSubdirectory("tuner-torchvision-").FullName;
        try
        {
            // PyTorch and torchvision (Debian's python3-torchvision; .ci/run installs it) write the weights and the reference.
            var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
            var script = Path.Combine(AppContext.BaseDirectory, "Python", "torchvision_resnet18.py");
            using (var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(python, [script, dir, "7"]) { RedirectStandardError = true })!)
            {
                var error = process.StandardError.ReadToEnd();
                process.WaitForExit();
                Assert.True(process.ExitCode == 0, $"{python} {script} failed (needs python3-torchvision): {error}");
            }

            using var resnet = PretrainedResNet.FromStateDict(Path.Combine(dir, "resnet18.pt"));
            var input = Floats(Path.Combine(dir, "input.bin"));
            var expected = Floats(Path.Combine(dir, "features.bin"));

            using var noGrad = no_grad();
            using var images = tensor(input, [2, 3, 224, 224]);
            using var features = resnet.Network.call(resnet.Preprocess(images));
            var actual = features.data<float>().ToArray();

            Assert.Equal([2, 2, 2, 2], resnet.Network.Spec.Stages.Select(s => s.Count));
            Assert.Equal(expected.Length, actual.Length);
            var worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
            TestContext.Current.SendDiagnosticMessage($"largest difference {worst:E2}, largest feature {expected.Max():F3}");
            Assert.True(worst <= 1e-3, $"features differ from torchvision's by up to {worst}");
            Assert.True(expected.Max() > 0.1, "the reference features are all near zero: the comparison would prove nothing");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static float[] Floats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
