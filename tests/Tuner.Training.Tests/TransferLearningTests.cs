using Tuner.Core.Space;
using Tuner.Core.Trainables;
using Tuner.Data.Datasets;
using Tuner.Training.Configuration;
using Tuner.Training.Models;
using Tuner.Training.Models.Pretrained;
using Tuner.Training.Tasks;
using Tuner.Training.Trainables;
using Tuner.Training.Training;
using static TorchSharp.torch;

namespace Tuner.Training.Tests;

/// <summary>The ImageNet ResNet-18 with a new head on the ants/bees photos: frozen, partly unfrozen, features cached.</summary>
public sealed class TransferLearningTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public TransferLearningTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public async Task AFrozenBackbone_TellsAntsFromBees_AndItsFeaturesAreComputedOncePerWorker()
    {
        set_num_threads(2);
        SharedData.UseForProcess();
        var cache = Directory.CreateTempSubdirectory("tuner-features-").FullName;
        Environment.SetEnvironmentVariable(FeatureCache.EnvironmentVariable, cache);
        try
        {
            // Two trials of the same frozen network: the first computes the features, the second reads them.
            var first = await Train(Config(("dense_layers", 1), ("units", 64), ("dropout", 0.2), ("lr", 0.001)), seed: 1);
            var second = await Train(Config(("dense_layers", 0), ("lr", 0.003)), seed: 2);

            TestContext.Current.SendDiagnosticMessage($"features {first[0]["feature_seconds"]:F1} s; accuracy {string.Join(", ", first.Select(m => m["accuracy"].ToString("F3")))} / {string.Join(", ", second.Select(m => m["accuracy"].ToString("F3")))}");
            Assert.True(first[0]["feature_seconds"] > 0);
            Assert.All(second, m => Assert.Equal(0, m["feature_seconds"]));
            Assert.Single(Directory.GetFiles(cache, "*.features"));
            Assert.True(first[^1]["accuracy"] >= 0.9, $"frozen ResNet-18 with an MLP head: accuracy {first[^1]["accuracy"]}");
            Assert.True(second[^1]["accuracy"] >= 0.9, $"frozen ResNet-18 with a linear head: accuracy {second[^1]["accuracy"]}");

            // Only the head trains: 512 x 64 + 64 + 64 x 2 + 2 weights, then 512 x 2 + 2.
            Assert.Equal((512 * 64) + 64 + (64 * 2) + 2, first[0]["parameters"]);
            Assert.Equal((512 * 2) + 2, second[0]["parameters"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(FeatureCache.EnvironmentVariable, null);
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public async Task UnfreezingTheLastStage_TrainsItAndTheHeadAtTheirOwnRates_WhileFrozenBatchNormKeepsItsStatistics()
    {
        set_num_threads(2);
        var photos = PretrainedResNetTests.Photos.Value;
        using var pretrained = await PretrainedResNet.ImageNetResNet18Async(SharedData.Cache, Ct);

        // Twelve training photos of each class, a few to validate: one epoch is enough to see what moves.
        var few = photos.Where(p => !p.Validation).GroupBy(p => p.Label).SelectMany(g => g.Take(12)).Concat(photos.Where(p => p.Validation).Take(4)).ToList();
        var task = new PhotoTask(few, 2, PretrainedResNet.ImageSize, augment: true);
        var config = Config(("unfreeze", 1), ("lr", 0.01), ("backbone_lr", 0.001), ("epochs", 1), ("batch_size", 8));
        TransferModel? model = null;
        using var trainer = Trainer.Create(task, () => model = new TransferModel(pretrained, 1, 512, 2, new ConfigReader(config)), config, seed: 3, epochs: 1, CPU);
        var network = pretrained.Network;
        Dictionary<string, Tensor> Snapshot() => network.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(network.named_buffers().Select(b => (b.name, b.buffer)))
            .ToDictionary(p => p.Item1, p => p.Item2.detach().clone());
        var before = Snapshot();

        trainer.RunEpoch(Ct);

        var after = Snapshot();
        var changed = before.Keys.Where(k => !before[k].eq(after[k]).all().item<bool>()).ToHashSet();
        Assert.NotEmpty(changed);
        Assert.All(changed, k => Assert.StartsWith("layer4.", k, StringComparison.Ordinal));
        Assert.Contains("layer4.2.conv2.weight", changed);
        Assert.Contains("layer4.0.bn1.running_mean", changed);
        Assert.DoesNotContain(before.Keys, k => k.StartsWith("layer3.", StringComparison.Ordinal) && changed.Contains(k));

        // Frozen parts stay in evaluation mode while the model trains; the head and the last stage train.
        model!.train();
        Assert.All(network.Parts.Take(4).SelectMany(p => p), m => Assert.False(m.training));
        Assert.True(network.Parts[4][0].training);

        // Two groups: the head at lr, the last stage at backbone_lr; trainable weights are the head and layer4.
        var (head, backbone) = (model.ParameterGroups[0], model.ParameterGroups[1]);
        Assert.Equal((1.0, 0.1), (head.RateScale, backbone.RateScale), new ToleranceComparer());
        Assert.Equal(network.Parts[4][0].parameters().Sum(p => p.numel()), backbone.Parameters.Sum(p => p.numel()));
        Assert.Equal(trainer.ParameterCount, head.Parameters.Sum(p => p.numel()) + backbone.Parameters.Sum(p => p.numel()));
    }

    private sealed class ToleranceComparer : IEqualityComparer<(double, double)>
    {
        public bool Equals((double, double) x, (double, double) y) => Math.Abs(x.Item1 - y.Item1) < 1e-12 && Math.Abs(x.Item2 - y.Item2) < 1e-12;

        public int GetHashCode((double, double) obj) => 0;
    }

    private static async Task<List<Dictionary<string, double>>> Train(TrialConfig config, int seed)
    {
        await using var trainable = new AntsBeesTrainable();
        await trainable.SetupAsync(new TrialContext("t", config, seed, 1), Ct);
        var epochs = new List<Dictionary<string, double>>();
        while (true)
        {
            var step = await trainable.StepAsync(Ct);
            epochs.Add(new Dictionary<string, double>(step.Metrics));
            if (step.Done)
            {
                return epochs;
            }
        }
    }

    private static TrialConfig Config(params (string Key, ParamValue Value)[] items) =>
        new([new("epochs", 4), new("feature_views", 2), new("batch_size", 16), .. items.Select(i => new KeyValuePair<string, ParamValue>(i.Key, i.Value))]);
}
