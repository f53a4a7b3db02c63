using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Tuner.Core.Space;
using Tuner.Data.Cache;
using Tuner.Data.Datasets;
using Tuner.Training;
using Tuner.Training.Tasks;
using Tuner.Training.Training;

namespace Tuner.Bench;

/// <summary>
/// One gestures GRU epoch (hidden 64, 2 layers, batch 32, Adam; training then validation) in
/// TorchSharp through Tuner's own <see cref="Trainer"/>, and in Debian's PyTorch 1.13 on the same
/// split, the same batch orders and the same thread count. The first epoch of each warms up; the
/// figure is the median of the rest.
/// </summary>
public static class EpochBenchmark
{
    private const int Seed = 1;

    public static async Task<int> RunAsync(int epochs, int threads)
    {
        TorchRuntime.EnsureInitialized();
        TorchSharp.torch.set_num_threads(threads);
        var sequences = await GesturesDataset.LoadAsync(DataCache.Resolve());
        var task = new GesturesTask(sequences, 0.2, splitSeed: 0);
        var config = new TrialConfig([new("hidden_size", 64), new("num_layers", 2), new("lr", 0.001), new("batch_size", 32)]);
        Say($"[bold]epoch[/]: gestures GRU (hidden 64, 2 layers, batch 32, Adam), {task.TrainCount:N0} training and {task.ValidationCount:N0} validation sequences, {threads} thread(s); median of {epochs} epochs after one warm-up");

        var ours = new List<double>();
        string oursLast;
        using (var trainer = Trainer.Create(task, "rnn", config, Seed, epochs + 1, TorchSharp.torch.CPU))
        {
            EpochMetrics last = default;
            for (var e = 0; e <= epochs; e++)
            {
                var watch = Stopwatch.StartNew();
                last = trainer.RunEpoch(CancellationToken.None);
                if (e > 0)
                {
                    ours.Add(watch.Elapsed.TotalSeconds);
                }
            }

            oursLast = $"train {last.TrainLoss:F3}, valid {last.ValidLoss:F3}, accuracy {last.Accuracy:F3}";
        }

        var table = new Table().AddColumns("system", "threads", "seconds per epoch (median)", "each epoch (s)", "after the last epoch");
        var oursMedian = Median(ours);
        table.AddRow($"Tuner (TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3)})", N(threads), S(oursMedian), string.Join(" ", ours.Select(S)), oursLast);
        var peer = RunPyTorch(task, epochs, threads);
        if (peer is not null)
        {
            var theirMedian = Median(peer.Value.Seconds);
            table.AddRow($"PyTorch {peer.Value.Version} (Debian python3-torch)", N(threads), S(theirMedian), string.Join(" ", peer.Value.Seconds.Select(S)), peer.Value.Last);
            AnsiConsole.Write(table);
            Say($"ratio: PyTorch takes [bold]{theirMedian / oursMedian:F2}x[/] Tuner's time per epoch (above 1: Tuner is faster; target: at least 1)");
        }
        else
        {
            AnsiConsole.Write(table);
            Say("PyTorch: not measured (install python3-torch: apt-get install -y python3-torch)");
        }

        return 0;
    }

    private static (List<double> Seconds, string Last, string Version)? RunPyTorch(GesturesTask task, int epochs, int threads)
    {
        var python = Peers.PythonWith("torch");
        if (python is null)
        {
            return null;
        }

        var specPath = Path.Combine(Path.GetTempPath(), $"tuner-bench-epoch-{Environment.ProcessId}.json");
        try
        {
            using (var stream = File.Create(specPath))
            {
                JsonSerializer.Serialize(stream, new Dictionary<string, object>
                {
                    ["threads"] = threads,
                    ["seed"] = Seed,
                    ["hidden"] = 64,
                    ["layers"] = 2,
                    ["classes"] = GesturesDataset.Classes,
                    ["lr"] = 0.001,
                    ["batch"] = 32,
                    ["train"] = task.Train.Select(s => s.Steps).ToArray(),
                    ["train_labels"] = task.Train.Select(s => s.Label).ToArray(),
                    ["valid"] = task.Validation.Select(s => s.Steps).ToArray(),
                    ["valid_labels"] = task.Validation.Select(s => s.Label).ToArray(),
                    ["orders"] = Enumerable.Range(0, epochs + 1).Select(e => Trainer.EpochOrder(task.TrainCount, Seed, e)).ToArray(),
                });
            }

            var output = Peers.Run(python, [Path.Combine(AppContext.BaseDirectory, "peers", "torch_epoch.py"), specPath]);
            var version = Peers.Run(python, ["-c", "import torch; print(torch.__version__)"]) ?? "?";
            if (output is null)
            {
                return null;
            }

            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("epoch ", StringComparison.Ordinal)).Select(l => l.Split(' ')).ToArray();
            var seconds = lines.Skip(1).Select(l => double.Parse(l[1], CultureInfo.InvariantCulture)).ToList();
            var last = lines[^1];
            return (seconds, $"train {D(last[2]):F3}, valid {D(last[3]):F3}, accuracy {D(last[4]):F3}", version);
        }
        finally
        {
            File.Delete(specPath);
        }
    }

    private static double D(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string S(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static void Say(string markup) => AnsiConsole.MarkupLine(markup);
}
