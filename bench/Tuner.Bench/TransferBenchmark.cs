using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Tuner.Core.Space;
using Tuner.Core.Trainables;
using Tuner.Data.Cache;
using Tuner.Data.Datasets;
using Tuner.Training;
using Tuner.Training.Configuration;
using Tuner.Training.Models;
using Tuner.Training.Models.Pretrained;
using Tuner.Training.Tasks;
using Tuner.Training.Trainables;
using Tuner.Training.Training;

namespace Tuner.Bench;

/// <summary>
/// One epoch of the ants/bees transfer model (ImageNet ResNet-18, an MLP head of 128, batch 16, Adam;
/// training on 244 photos then validating on 153) as the <c>ants_bees</c> trainable runs it: full
/// fine-tuning (unfreeze 5), the last stage unfrozen (unfreeze 1), and the frozen backbone (unfreeze 0) on the
/// worker's cached features, whose one-off extraction is shown apart; plus a frozen backbone run through the
/// network every epoch (no cache), to show what the cache adds. Median of the epochs after the first for the
/// frozen, cached model (milliseconds, where warm-up shows); every epoch counts for the others (minutes, where it
/// does not). <c>all</c> adds the last-stage and uncached rows.
/// </summary>
public static class TransferBenchmark
{
    public static async Task<int> RunAsync(int epochs, int threads, bool all)
    {
        TorchRuntime.EnsureInitialized();
        TorchSharp.torch.set_num_threads(threads);
        var features = Directory.CreateTempSubdirectory("tuner-bench-features-").FullName;
        Environment.SetEnvironmentVariable(FeatureCache.EnvironmentVariable, features);
        try
        {
            Say($"[bold]transfer[/]: ants/bees, ImageNet ResNet-18 + MLP head (128), batch 16, Adam, {threads} thread(s); {epochs} epoch(s) each (frozen, cached: median after a warm-up epoch)");
            var table = new Table().AddColumns("backbone", "trainable weights", "seconds per epoch", "each epoch (s)", "accuracy after", "full fine-tune / this");
            var full = await TrialAsync(5, epochs, warmUp: false);
            var frozen = await TrialAsync(0, Math.Max(epochs, 3), warmUp: true);
            var rows = new List<(string, Result)> { ("full fine-tune (unfreeze 5)", full), ("frozen, cached features (unfreeze 0)", frozen) };
            if (all)
            {
                rows.Insert(1, ("last stage (unfreeze 1)", await TrialAsync(1, epochs, warmUp: false)));
                rows.Add(("frozen, through the network every epoch", await UncachedFrozenAsync(epochs)));
            }

            foreach (var (name, result) in rows)
            {
                table.AddRow(name, result.Parameters.ToString("N0", CultureInfo.InvariantCulture), S(result.Median), string.Join(" ", result.Epochs.Select(S)), result.Accuracy.ToString("F3", CultureInfo.InvariantCulture), $"{full.Median / result.Median:F1}x");
            }

            AnsiConsole.Write(table);
            Say($"feature extraction, once per worker (4 views of each training photo, 1 of each validation photo): {S(frozen.FeatureSeconds)} s");
            Say($"ratio: a frozen-backbone epoch is [bold]{full.Median / frozen.Median:F0}x[/] faster than full fine-tuning (target: at least 5x); with the one-off extraction counted in, {full.Median / (frozen.Median + frozen.FeatureSeconds):F1}x");
            Say($"peak memory (working set) of this process: {Environment.WorkingSet / 1e9:F1} GB now, {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1e9:F1} GB at most");
            return 0;
        }
        finally
        {
            Environment.SetEnvironmentVariable(FeatureCache.EnvironmentVariable, null);
            Directory.Delete(features, recursive: true);
        }
    }

    private static TrialConfig Config(int unfreeze, int epochs) =>
        new([new("unfreeze", unfreeze), new("epochs", epochs), new("batch_size", 16), new("dense_layers", 1), new("units", 128), new("dropout", 0.2), new("lr", 0.001), new("backbone_lr", 0.0001)]);

    private static async Task<Result> TrialAsync(int unfreeze, int epochs, bool warmUp)
    {
        await using var trainable = new AntsBeesTrainable();
        await trainable.SetupAsync(new TrialContext($"unfreeze{unfreeze}", Config(unfreeze, epochs + (warmUp ? 1 : 0)), 1, 1), CancellationToken.None);
        var seconds = new List<double>();
        IReadOnlyDictionary<string, double> metrics;
        double featureSeconds = 0;
        while (true)
        {
            var watch = Stopwatch.StartNew();
            var step = await trainable.StepAsync(CancellationToken.None);
            seconds.Add(watch.Elapsed.TotalSeconds);
            metrics = step.Metrics;
            featureSeconds = Math.Max(featureSeconds, metrics["feature_seconds"]);
            if (step.Done)
            {
                break;
            }
        }

        return new Result(seconds.Skip(warmUp ? 1 : 0).ToList(), metrics["accuracy"], (long)metrics["parameters"], featureSeconds);
    }

    private static async Task<Result> UncachedFrozenAsync(int epochs)
    {
        var config = Config(0, epochs + 1);
        using var pretrained = await PretrainedResNet.ImageNetResNet18Async(DataCache.Resolve());
        var task = new PhotoTask(await HymenopteraDataset.LoadAsync(DataCache.Resolve(), 256), 2, PretrainedResNet.ImageSize, augment: true);
        using var trainer = Trainer.Create(task, () => new TransferModel(pretrained, 0, 512, 2, new ConfigReader(config)), config, 1, epochs + 1, TorchSharp.torch.CPU);
        var seconds = new List<double>();
        EpochMetrics last = default;
        for (var e = 0; e <= epochs; e++)
        {
            var watch = Stopwatch.StartNew();
            last = trainer.RunEpoch(CancellationToken.None);
            seconds.Add(watch.Elapsed.TotalSeconds);
        }

        return new Result(seconds.Skip(1).ToList(), last.Accuracy, trainer.ParameterCount, 0);
    }

    private sealed record Result(List<double> Epochs, double Accuracy, long Parameters, double FeatureSeconds)
    {
        public double Median => Epochs.Count % 2 == 1
            ? Epochs.Order().ElementAt(Epochs.Count / 2)
            : Epochs.Order().Skip((Epochs.Count / 2) - 1).Take(2).Average();
    }

    private static string S(double value) => value.ToString(value < 0.1 ? "F4" : "F2", CultureInfo.InvariantCulture);

    private static void Say(string markup) => AnsiConsole.MarkupLine(markup);
}
