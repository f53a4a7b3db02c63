using System.Diagnostics;
using System.Globalization;
using Tuner.Core.Telemetry;

namespace Tuner.Worker.Placement;

/// <summary>
/// The GPUs this machine has, with their memory, as <c>nvidia-smi</c> reports them; none where it is
/// missing or fails. Configured counts (<c>Worker:Gpus</c>) take precedence.
/// </summary>
public static class GpuDetector
{
    public static IReadOnlyList<DetectedGpu> Detect(string program = "nvidia-smi") =>
        Query(program, "index,memory.total") is { } output ? Parse(output) : [];

    /// <summary>Each GPU's load now (utilization 0..1, memory in use in bytes); empty where nvidia-smi is missing or fails.</summary>
    public static IReadOnlyList<GpuSample> Sample(string workerId, string program = "nvidia-smi") =>
        Query(program, "index,utilization.gpu,memory.used") is { } output ? ParseSample(workerId, output) : [];

    /// <summary>Lines <c>index, utilization %, memory used MiB</c>; anything else (e.g. "[N/A]") is skipped.</summary>
    public static IReadOnlyList<GpuSample> ParseSample(string workerId, string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(',', StringSplitOptions.TrimEntries))
            .Where(p => p.Length >= 3
                && int.TryParse(p[0], CultureInfo.InvariantCulture, out _)
                && double.TryParse(p[1], CultureInfo.InvariantCulture, out _)
                && double.TryParse(p[2], CultureInfo.InvariantCulture, out _))
            .Select(p => new GpuSample(
                workerId,
                int.Parse(p[0], CultureInfo.InvariantCulture),
                double.Parse(p[1], CultureInfo.InvariantCulture) / 100,
                double.Parse(p[2], CultureInfo.InvariantCulture) * 1024 * 1024))
            .OrderBy(g => g.Device)];

    private static string? Query(string program, string fields)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, $"--query-gpu={fields} --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd();
            return process.WaitForExit(5000) && process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No nvidia-smi: no NVIDIA GPUs (or no driver) here.
            return null;
        }
    }

    /// <summary>Lines <c>index, memory MiB</c>; anything else is skipped.</summary>
    public static IReadOnlyList<DetectedGpu> Parse(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(',', StringSplitOptions.TrimEntries))
            .Where(p => p.Length >= 2 && int.TryParse(p[0], CultureInfo.InvariantCulture, out _) && int.TryParse(p[1], CultureInfo.InvariantCulture, out _))
            .Select(p => new DetectedGpu(int.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture)))
            .OrderBy(g => g.Index)];
}

/// <summary>One GPU: its index (as CUDA_VISIBLE_DEVICES counts) and memory in MiB.</summary>
public sealed record DetectedGpu(int Index, int MemoryMb);
