using System.Globalization;
using Tuner.Client;
using Tuner.Client.Results;
using Tuner.Client.Space;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace GesturesHypertune;

/// <summary>What to tune and how long; the defaults are the course's hypertune.py.</summary>
public sealed record HypertuneOptions
{
    public int Samples { get; init; } = 20;

    public int Epochs { get; init; } = 50;

    public int MaxConcurrent { get; init; } = 2;

    public int Seed { get; init; } = 42;

    public string? CsvPath { get; init; }
}

/// <summary>
/// hypertune.py in C#: a GRU classifier on the SmartWatch gestures, its hidden size (16-128), dropout
/// (0-0.3) and number of layers (2-5) chosen by TPE, the weaker trials stopped by ASHA on the validation loss.
/// </summary>
public static class Hypertune
{
    public static ExperimentSpec Spec(HypertuneOptions options) => new()
    {
        Name = "gestures-hypertune",
        Trainable = "gestures",
        Params = new TrialConfig(new Dictionary<string, ParamValue>
        {
            ["model"] = "rnn",
            ["cell"] = "gru",
            ["epochs"] = options.Epochs,
            ["batch_size"] = 32,
            ["optimizer"] = "adam",
            ["lr"] = 0.001,
        }),
        Metric = "valid_loss",
        Mode = OptimizationMode.Min,
        Samples = options.Samples,
        MaxConcurrent = options.MaxConcurrent,
        Search = new SearchSpec { Algorithm = "tpe", Seed = options.Seed },
        Scheduler = new SchedulerSpec { Algorithm = "asha", MaxT = options.Epochs, GracePeriod = 1, ReductionFactor = 3 },
        Checkpoint = new CheckpointSpec { Frequency = 5 },
        Failure = new FailureSpec { MaxFailures = 2 },
        Space = new SearchSpaceBuilder()
            .RandInt("hidden_size", 16, 129)
            .Uniform("dropout", 0.0, 0.3)
            .RandInt("num_layers", 2, 6)
            .Build(),
    };

    /// <summary>Runs the experiment through <paramref name="client"/> (a server's or an embedded one), printing progress and the best trial.</summary>
    public static async Task<ResultGrid> RunAsync(ITunerClient client, HypertuneOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        var lastLine = 0L;
        var progress = new Progress(p =>
        {
            if (TimeProvider.System.GetElapsedTime(lastLine) >= TimeSpan.FromSeconds(5))
            {
                lastLine = TimeProvider.System.GetTimestamp();
                var ended = p.Counts.GetValueOrDefault(TrialStatus.Terminated) + p.Counts.GetValueOrDefault(TrialStatus.Error);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ended}/{p.TotalTrials} trials ended, {p.Results} epochs reported, best {p.BestTrialId ?? "-"} valid_loss={p.BestMetric:G4}"));
            }
        });
        var grid = await client.RunAsync(Spec(options), progress, cancellationToken: cancellationToken);
        var best = grid.GetBestResult();
        var epochs = grid.Trials.Sum(t => t.Iterations);
        output.WriteLine($"{grid.ExperimentId}: {grid.Status.ToWire()}, {grid.Trials.Count} trials, {epochs} epochs in all");
        if (best is not null)
        {
            var accuracy = best.Trial.LastResult?.GetMetric("accuracy");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best trial {best.Trial.TrialId}: valid_loss={best.Value:G4}, accuracy={accuracy:G4}, {{{best.Trial.Config}}}"));
        }

        if (options.CsvPath is { } path)
        {
            grid.WriteCsv(path);
            output.WriteLine($"results: {path}");
        }

        return grid;
    }

    private sealed class Progress(Action<ExperimentProgress> report) : IProgress<ExperimentProgress>
    {
        public void Report(ExperimentProgress value) => report(value);
    }
}
