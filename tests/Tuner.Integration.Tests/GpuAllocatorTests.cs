using Tuner.Worker.Placement;

namespace Tuner.Integration.Tests;

public sealed class GpuAllocatorTests
{
    [Fact]
    public void CpuOnlyTrials_GetThreadsForTheirSlots_AndNoGpu()
    {
        var placement = new GpuAllocator(2).Allocate("e/t1", cpu: 2.5, gpu: 0);

        Assert.Equal(("cpu", 2), (placement.Device, placement.Threads));
        Assert.Empty(placement.Gpus);
    }

    [Fact]
    public void WholeGpus_GoToOneTrialEach_AndComeBackOnRelease()
    {
        var gpus = new GpuAllocator(3);

        var first = gpus.Allocate("e/t1", 1, 2);
        var second = gpus.Allocate("e/t2", 1, 1);
        var full = Assert.Throws<InvalidOperationException>(() => gpus.Allocate("e/t3", 1, 1));
        gpus.Release("e/t1");
        var third = gpus.Allocate("e/t3", 1, 2);

        Assert.Equal([0, 1], first.Gpus);
        Assert.Equal([2], second.Gpus);
        Assert.Equal("cuda:0", first.Device);
        Assert.Contains("needs 1 free GPU(s); this worker has 0 of 3 free", full.Message, StringComparison.Ordinal);
        Assert.Equal([0, 1], third.Gpus);
    }

    [Fact]
    public void Fractions_ShareTheLeastLoadedGpu()
    {
        var gpus = new GpuAllocator(2);

        var a = gpus.Allocate("e/a", 1, 0.5);
        var b = gpus.Allocate("e/b", 1, 0.5);
        var c = gpus.Allocate("e/c", 1, 0.5);
        var d = gpus.Allocate("e/d", 1, 0.5);

        Assert.Equal([[0], [1], [0], [1]], new[] { a.Gpus, b.Gpus, c.Gpus, d.Gpus });
        Assert.Throws<InvalidOperationException>(() => gpus.Allocate("e/e", 1, 0.25));
    }
}
