using System.Diagnostics;
using System.Globalization;

namespace Tuner.Worker.Placement;

/// <summary>
/// The GPUs this machine has, with their memory, as <c>nvidia-smi</c> reports them; none where it is
/// missing or fails. Configured counts (<c>Worker:Gpus</c>) take precedence.
/// </summary>
public static class GpuDetector
{
    public static IReadOnlyList<DetectedGpu> Detect(string program = "nvidia-smi")
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, "--query-gpu=index,memory.total --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return [];
            }

            var output = process.StandardOutput.ReadToEnd();
            return process.WaitForExit(5000) && process.ExitCode == 0 ? Parse(output) : [];
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No nvidia-smi: no NVIDIA GPUs (or no driver) here.
            return [];
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
