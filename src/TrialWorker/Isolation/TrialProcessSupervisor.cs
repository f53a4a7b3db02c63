using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Protocol;
using Tuner.Worker.Checkpoints;
using Tuner.Worker.Placement;
using P = Tuner.Core.Protocol.TrialProcessProtocol;

namespace Tuner.Worker.Isolation;

/// <summary>
/// Runs a trial in a child process, as Ray runs trials in worker processes: a native crash, an
/// out-of-memory kill or a hang ends that process, never the worker or its other trials, and the
/// process's memory goes back when it exits. Speaks <see cref="TrialProcessProtocol"/>: forwards every
/// report to the experiment, commits every announced checkpoint, and on a stop or pause decision (or
/// the worker's cancellation) sends SIGTERM, then SIGKILL after the grace period. A non-zero exit the
/// worker did not ask for is a failed attempt, retried by the trial grain from the last checkpoint.
/// </summary>
public sealed partial class TrialProcessSupervisor(WorkerOptions options, CheckpointStore checkpoints, Reporting.ResultReporter reporter, TimeProvider time, ILogger<TrialProcessSupervisor> logger)
{
    private const int SigTerm = 15;
    private const int StderrLinesKept = 200;

    public async Task<TrialOutcome> RunAsync(TrialAssignment assignment, TrialPlacement placement, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(assignment.CheckpointRoot);
        var configFile = Path.Combine(assignment.CheckpointRoot, $"config.attempt{assignment.Attempt}.json");
        P.WriteConfig(configFile, assignment.Config);
        try
        {
            using var process = Start(assignment, placement, configFile);
            LogStarted(logger, assignment.TrialKey, process.Id, placement.Device, placement.Threads);
            try
            {
                return await SuperviseAsync(process, assignment, cancellationToken);
            }
            catch
            {
                // The experiment or trial grain could not be reached: the process must not train on unseen.
                process.Kill(entireProcessTree: true);
                throw;
            }
        }
        finally
        {
            File.Delete(configFile);
        }
    }

    private async Task<TrialOutcome> SuperviseAsync(Process process, TrialAssignment assignment, CancellationToken cancellationToken)
    {
        var iteration = assignment.RestoreFrom?.Iteration ?? 0;
        var timeBefore = assignment.RestoreFrom?.TimeTotalS ?? 0;
        var started = time.GetTimestamp();
        var sinceRestore = 0L;
        var done = false;
        var stopRequested = 0;
        var pauseRequested = false;
        var stderr = new Queue<string>(StderrLinesKept);
        string? protocolError = null;

        // SIGTERM once (a stop decision and the worker's cancellation may race), SIGKILL after the grace period.
        void RequestStop()
        {
            if (Interlocked.Exchange(ref stopRequested, 1) == 1)
            {
                return;
            }

            _ = Kill(process.Id, SigTerm);
            _ = Task.Delay(options.TrialStopGracePeriod, time, CancellationToken.None).ContinueWith(
                _ =>
                {
                    try
                    {
                        if (!process.HasExited)
                        {
                            LogKilled(logger, assignment.TrialKey, process.Id, options.TrialStopGracePeriod.TotalSeconds);
                            process.Kill(entireProcessTree: true);
                        }
                    }
                    catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
                    {
                        // It exited meanwhile.
                    }
                },
                TaskScheduler.Default);
        }

        var readErrors = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync(CancellationToken.None) is { } line)
            {
                lock (stderr)
                {
                    if (stderr.Count == StderrLinesKept)
                    {
                        stderr.Dequeue();
                    }

                    stderr.Enqueue(line);
                }
            }
        }, CancellationToken.None);

        await using (cancellationToken.Register(RequestStop))
        {
            while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
            {
                ProtocolMessage? message;
                try
                {
                    message = P.Parse(line);
                }
                catch (FormatException ex)
                {
                    protocolError ??= ex.Message;
                    RequestStop();
                    continue;
                }

                switch (message)
                {
                    case ProtocolMessage.Report report:
                        iteration++;
                        sinceRestore++;
                        done |= report.Done;
                        var elapsed = timeBefore + time.GetElapsedTime(started).TotalSeconds;
                        var result = new TrialResult(iteration, elapsed, time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0, report.Metrics, sinceRestore);
                        var command = await reporter.ReportAsync(assignment, result);
                        if (command != TrialCommand.Continue && !report.Done)
                        {
                            // SIGTERM: the trial process saves a checkpoint and exits; a pause resumes from it later.
                            pauseRequested |= command == TrialCommand.Pause;
                            RequestStop();
                        }

                        break;
                    case ProtocolMessage.Checkpoint checkpoint:
                        var directory = Path.GetFullPath(Path.Combine(assignment.CheckpointRoot, checkpoint.Path));
                        if (!directory.StartsWith(Path.GetFullPath(assignment.CheckpointRoot), StringComparison.Ordinal) || !Directory.Exists(directory))
                        {
                            protocolError ??= $"{P.CheckpointPrefix.Trim()} names '{checkpoint.Path}', which is not a folder under {P.CheckpointDirVariable}";
                            RequestStop();
                            break;
                        }

                        await checkpoints.CommitAsync(assignment, directory, iteration, timeBefore + time.GetElapsedTime(started).TotalSeconds);
                        break;
                    case null:
                        LogOutput(logger, assignment.TrialKey, line);
                        break;
                }
            }

            await process.WaitForExitAsync(CancellationToken.None);
            await readErrors;
        }

        if (protocolError is not null)
        {
            return new TrialOutcome(TrialOutcomeKind.Failed, $"trial process broke the protocol: {protocolError}", iteration);
        }

        if (done)
        {
            return new TrialOutcome(TrialOutcomeKind.Finished, null, iteration);
        }

        if (Volatile.Read(ref stopRequested) == 1)
        {
            var paused = pauseRequested && process.ExitCode == 0 && !cancellationToken.IsCancellationRequested;
            return new TrialOutcome(paused ? TrialOutcomeKind.Paused : TrialOutcomeKind.Stopped, null, iteration);
        }

        if (process.ExitCode == 0)
        {
            return new TrialOutcome(TrialOutcomeKind.Finished, null, iteration);
        }

        // The last line says what went wrong (a .NET trial's summary, a Python traceback's exception);
        // the lines before it go to a log beside the trial's results.
        string[] lines;
        lock (stderr)
        {
            lines = [.. stderr];
        }

        var log = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(assignment.CheckpointRoot))!, $"stderr.attempt{assignment.Attempt}.log");
        await File.WriteAllLinesAsync(log, lines, CancellationToken.None);
        // Our own trial host prints one summary line; a user's command gets the tail of its standard error.
        var tail = string.Join('\n', lines.Where(l => !string.IsNullOrWhiteSpace(l)).TakeLast(assignment.Custom is null ? 1 : 5).Select(l => l.TrimEnd()));
        var last = tail.Length == 0 ? null : tail.Trim();

        // 128 + n: the shell's way of saying "killed by signal n" (137 = SIGKILL, e.g. the out-of-memory killer).
        var how = process.ExitCode > 128 ? $"was killed by signal {process.ExitCode - 128}" : $"exited with code {process.ExitCode}";
        return new TrialOutcome(TrialOutcomeKind.Failed, last is null ? $"trial process {how}" : $"trial process {how}: {last}", iteration);
    }

    private Process Start(TrialAssignment assignment, TrialPlacement placement, string configFile)
    {
        // A command trainable is the user's own program; otherwise our tuner-trial host.
        var custom = assignment.Custom is { IsCommand: true } c ? c : null;
        var (program, arguments) = custom is null ? options.TrialProcessCommand() : (custom.Command![0], custom.Command.Skip(1).ToArray());
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = custom?.WorkingDir ?? assignment.CheckpointRoot,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var env = start.Environment;
        foreach (var (name, value) in custom?.Env ?? new Dictionary<string, string>())
        {
            env[name] = value;
        }

        env[P.ConfigFileVariable] = configFile;
        env[P.TrialIdVariable] = assignment.TrialId;
        env[P.CheckpointDirVariable] = assignment.CheckpointRoot;
        env[P.RestoreFromVariable] = assignment.RestoreFrom?.Path;
        env[P.IterationVariable] = I(assignment.RestoreFrom?.Iteration ?? 0);
        env[P.CheckpointFrequencyVariable] = I(assignment.CheckpointFrequency);
        env[P.TrainableVariable] = assignment.Trainable;
        env[P.SeedVariable] = I(assignment.Seed);
        env[P.AttemptVariable] = I(assignment.Attempt);
        env[P.DeviceVariable] = placement.Device;
        env[P.ThreadsVariable] = I(placement.Threads);

        // Only the granted GPUs are visible, so the trial's device is cuda:0 whichever it got; OpenMP and
        // MKL pools match the threads granted, so trials on one worker do not oversubscribe its cores.
        env["CUDA_VISIBLE_DEVICES"] = placement.Gpus.Count > 0 ? string.Join(',', placement.Gpus) : string.Empty;
        env["OMP_NUM_THREADS"] = I(placement.Threads);
        env["MKL_NUM_THREADS"] = I(placement.Threads);
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"could not start '{program}' in {start.WorkingDirectory}: {ex.Message}", ex);
        }
    }

    private static string I(long value) => value.ToString(CultureInfo.InvariantCulture);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trial {TrialKey} runs in process {Pid} on {Device} with {Threads} thread(s)")]
    private static partial void LogStarted(ILogger logger, string trialKey, int pid, string device, int threads);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trial {TrialKey} process {Pid} did not stop within {GraceS} s of SIGTERM; killed")]
    private static partial void LogKilled(ILogger logger, string trialKey, int pid, double graceS);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Trial {TrialKey}: {Line}")]
    private static partial void LogOutput(ILogger logger, string trialKey, string line);
}
