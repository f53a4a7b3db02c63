using System.Globalization;
using System.Runtime.InteropServices;
using Tuner.Core.Protocol;
using Tuner.Core.Trainables;
using Tuner.Training;
using P = Tuner.Core.Protocol.TrialProcessProtocol;

namespace Tuner.TrialProcess;

/// <summary>
/// Runs one trial in this process: reads the protocol's environment, sets the thread count and
/// device, steps the trainable and prints a report line per iteration, saves checkpoints at the
/// frequency asked and when SIGTERM arrives (then exits 0), and exits 1 with the error on standard
/// error when the trainable fails.
/// </summary>
public static class TrialProcessHost
{
    public const int Failed = 1;

    public const int Misused = 2;

    public static async Task<int> RunAsync(TrainableRegistry registry, Func<string, string?> environment, TextWriter output, TextWriter error)
    {
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            // Checkpoint and leave on our own terms instead of dying at once.
            context.Cancel = true;
            stop.Cancel();
        });

        Settings settings;
        try
        {
            settings = Settings.Read(environment, registry);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or IOException or KeyNotFoundException)
        {
            await error.WriteLineAsync($"tuner-trial: {ex.Message}");
            return Misused;
        }

        var iteration = settings.Iteration;
        try
        {
            if (settings.Descriptor.RunsInChildProcess)
            {
                TorchRuntime.EnsureInitialized();
                TorchSharp.torch.set_num_threads(settings.Threads);
            }

            await using var trainable = settings.Descriptor.Create();
            await trainable.SetupAsync(new TrialContext(settings.TrialId, settings.Config, settings.Seed, settings.Attempt, settings.Device, Path.GetDirectoryName(Path.GetFullPath(settings.CheckpointDir))), stop.Token);
            if (settings.RestoreFrom is { } restore)
            {
                await trainable.RestoreCheckpointAsync(restore, stop.Token);
            }

            while (true)
            {
                StepResult step;
                try
                {
                    step = await trainable.StepAsync(stop.Token);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // Stopped between two batches: the checkpoint holds the progress within the iteration too.
                    await SaveCheckpointAsync(trainable, settings, iteration, output);
                    return 0;
                }

                iteration++;
                await output.WriteLineAsync(P.FormatReport(step.Metrics, step.Done));
                await output.FlushAsync(CancellationToken.None);
                if (step.Done)
                {
                    return 0;
                }

                if (stop.IsCancellationRequested || (settings.CheckpointFrequency > 0 && iteration % settings.CheckpointFrequency == 0))
                {
                    await SaveCheckpointAsync(trainable, settings, iteration, output);
                }

                if (stop.IsCancellationRequested)
                {
                    return 0;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped while setting up or restoring: nothing new to keep.
            return 0;
        }
        catch (Exception ex)
        {
            // The details first; the summary last, where the worker looks for it.
            await error.WriteLineAsync(ex.ToString());
            await error.WriteLineAsync($"{ex.GetType().Name}: {FirstLine(ex.Message)}");
            return Failed;
        }
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    /// <summary>Saves the checkpoint folder, complete, then announces it.</summary>
    private static async Task SaveCheckpointAsync(ITrainable trainable, Settings settings, long iteration, TextWriter output)
    {
        var name = CheckpointFolder.Name(iteration);
        await CheckpointFolder.SaveAsync(trainable, Path.Combine(settings.CheckpointDir, name), CancellationToken.None);
        await output.WriteLineAsync(P.FormatCheckpoint(name));
        await output.FlushAsync(CancellationToken.None);
    }

    private sealed record Settings(
        TrainableDescriptor Descriptor,
        string TrialId,
        Core.Space.TrialConfig Config,
        string CheckpointDir,
        string? RestoreFrom,
        long Iteration,
        int CheckpointFrequency,
        int Seed,
        int Attempt,
        string Device,
        int Threads)
    {
        public static Settings Read(Func<string, string?> environment, TrainableRegistry registry)
        {
            string Required(string name) => environment(name) is { Length: > 0 } value ? value : throw new ArgumentException($"{name} is not set; tuner-trial is started by a worker");
            long Number(string name, long fallback, long min) =>
                environment(name) is not { Length: > 0 } text ? fallback
                : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min ? n
                : throw new ArgumentException($"{name}: expected a whole number of at least {min}, got '{text}'");

            var checkpointDir = Required(P.CheckpointDirVariable);
            Directory.CreateDirectory(checkpointDir);
            return new Settings(
                registry.Get(Required(P.TrainableVariable)),
                Required(P.TrialIdVariable),
                P.ReadConfig(Required(P.ConfigFileVariable)),
                checkpointDir,
                environment(P.RestoreFromVariable) is { Length: > 0 } restore ? restore : null,
                Number(P.IterationVariable, 0, 0),
                (int)Number(P.CheckpointFrequencyVariable, 0, 0),
                (int)Number(P.SeedVariable, 0, int.MinValue),
                (int)Number(P.AttemptVariable, 1, 1),
                environment(P.DeviceVariable) is { Length: > 0 } device ? device : "cpu",
                (int)Number(P.ThreadsVariable, 1, 1));
        }
    }
}
