namespace Tuner.Worker.Placement;

/// <summary>
/// Where a trial computes on this worker: its device (<c>cpu</c>, or <c>cuda:0</c> within the GPUs made
/// visible to it), the GPU indices it holds (for <c>CUDA_VISIBLE_DEVICES</c>) and its CPU threads.
/// </summary>
public sealed record TrialPlacement(string Device, IReadOnlyList<int> Gpus, int Threads)
{
    public static TrialPlacement Cpu(int threads) => new("cpu", [], threads);
}
