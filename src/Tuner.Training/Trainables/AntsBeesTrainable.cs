using System.Diagnostics;
using Tuner.Core.Trainables;
using Tuner.Data.Cache;
using Tuner.Data.Datasets;
using Tuner.Data.Pretrained;
using Tuner.Training.Configuration;
using Tuner.Training.Models;
using Tuner.Training.Models.Pretrained;
using Tuner.Training.Tasks;
using Tuner.Training.Training;
using static TorchSharp.torch;

namespace Tuner.Training.Trainables;

/// <summary>
/// Transfer learning on the ants/bees photos (the PyTorch tutorial's): a pretrained ResNet (by default the
/// ImageNet ResNet-18 of ML.NET's package; <c>weights</c> may name a torchvision state dict instead) with a
/// new MLP head (<see cref="TransferModel"/>). With the backbone fully frozen (<c>unfreeze</c> 0) its features
/// are computed once per worker (<see cref="FeatureCache"/>): the centre crop of every photo plus
/// <c>feature_views</c> - 1 augmented views of each training photo; otherwise photos go through the network
/// every epoch, augmented (<c>augment</c>). Reports <c>feature_seconds</c>: the time this trial spent
/// computing features (0 when it read the worker's cache or trains through the backbone).
/// </summary>
public sealed class AntsBeesTrainable : ClassifierTrainable
{
    private const int ShorterSide = 256;
    private const int FeatureBatch = 32;

    private PretrainedResNet? _pretrained;
    private int _unfreeze;
    private double _featureSeconds;

    public static TrainableDescriptor Descriptor { get; } = ClassifierDescriptors.AntsBees with { Create = () => new AntsBeesTrainable() };

    protected override IReadOnlyList<string> Families { get; } = ["resnet"];

    protected override async Task<(TrainingTask Task, string Family)> LoadAsync(string model, double validationFraction, int splitSeed, CancellationToken cancellationToken)
    {
        var read = new ConfigReader(Context!.Config);
        _unfreeze = read.Integer("unfreeze", 0, 0, TransferModel.MaxUnfreeze);
        var augment = read.Boolean("augment", true);
        var views = read.Integer("feature_views", 4, 1, 64);
        var weights = read.Config.TryGetValue("weights", out var w) ? w.AsString() : "imagenet";
        var cache = DataCache.Resolve();
        _pretrained = weights == "imagenet"
            ? await PretrainedResNet.ImageNetResNet18Async(cache, cancellationToken).ConfigureAwait(false)
            : File.Exists(weights) ? PretrainedResNet.FromStateDict(weights) : throw new ConfigException("weights", $"'{weights}' is neither 'imagenet' nor a PyTorch state dict file");
        var classes = HymenopteraDataset.Classes.Count;
        var size = PretrainedResNet.ImageSize;
        if (_unfreeze > 0)
        {
            return (new PhotoTask(await HymenopteraDataset.LoadAsync(cache, ShorterSide, cancellationToken).ConfigureAwait(false), classes, size, augment), model);
        }

        var watch = Stopwatch.StartNew();
        var weightsId = weights == "imagenet" ? ResNet18Files.Model.Checksum : $"{Path.GetFullPath(weights)}:{new FileInfo(weights).Length}:{File.GetLastWriteTimeUtc(weights):O}";
        var key = $"features v1 | weights {weightsId} | {HymenopteraDataset.File.RelativePath} | resize {ShorterSide} crop {size} | views {views}";
        var (features, computed) = await FeatureCache.Resolve().GetOrComputeAsync(
            key,
            async () => Extract(new PhotoTask(await HymenopteraDataset.LoadAsync(cache, ShorterSide, cancellationToken).ConfigureAwait(false), classes, size, augment: false), views, cancellationToken),
            cancellationToken).ConfigureAwait(false);
        _featureSeconds = computed ? watch.Elapsed.TotalSeconds : 0;
        return (new FeatureTask(features, classes), model);
    }

    protected override Trainer CreateTrainer(TrainingTask task, string family, TrialContext context, int epochs, Device device)
    {
        // A fully frozen backbone already made the features: the model is the head alone.
        var backbone = _unfreeze > 0 ? _pretrained : null;
        return Trainer.Create(task, () => new TransferModel(backbone, _unfreeze, _pretrained!.Network.Spec.Features, task.Input.Classes, new ConfigReader(context.Config)), context.Config, context.Seed, epochs, device);
    }

    protected override void AddMetrics(Dictionary<string, double> metrics) => metrics["feature_seconds"] = _featureSeconds;

    private CachedFeatures Extract(PhotoTask photos, int views, CancellationToken cancellationToken)
    {
        var network = _pretrained!.Network;
        network.eval();
        using var noGrad = no_grad();
        float[] Run(bool validation, int view)
        {
            var rows = new List<float>();
            foreach (var batch in photos.Views(validation, view, FeatureBatch))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                rows.AddRange(network.call(_pretrained.Preprocess(batch)).data<float>().ToArray());
            }

            return [.. rows];
        }

        var train = Enumerable.Range(0, views).SelectMany(v => Run(false, v)).ToArray();
        return new CachedFeatures(network.Spec.Features, views, train, photos.Labels(false), Run(true, 0), photos.Labels(true));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync().ConfigureAwait(false);
        _pretrained?.Dispose();
    }
}
