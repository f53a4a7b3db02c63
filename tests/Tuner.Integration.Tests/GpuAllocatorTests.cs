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
    public void Fractions_PackOntoTheFullestGpuTheyFit_KeepingWholeGpusFree()
    {
        var gpus = new GpuAllocator(2);

        var a = gpus.Allocate("e/a", 1, 0.5);
        var b = gpus.Allocate("e/b", 1, 0.5);

        // Two halves share GPU 0, so a whole-GPU trial still finds GPU 1 free.
        Assert.Equal([[0], [0]], new[] { a.Gpus, b.Gpus });
        Assert.Equal([1], gpus.Allocate("e/whole", 1, 1).Gpus);
        Assert.Throws<InvalidOperationException>(() => gpus.Allocate("e/e", 1, 0.25));
        gpus.Release("e/a");
        Assert.Equal([0], gpus.Allocate("e/f", 1, 0.25).Gpus);
    }

    [Fact]
    public void TheGrantedDevices_AreTheOnesBound_AndAGrantThatDoesNotFitIsRefused()
    {
        var gpus = new GpuAllocator(2);

        Assert.Equal([1], gpus.Allocate("e/a", 1, 0.5, [1]).Gpus);
        Assert.Equal([1], gpus.Allocate("e/b", 1, 0.5, [1]).Gpus);
        var ex = Assert.Throws<InvalidOperationException>(() => gpus.Allocate("e/c", 1, 0.5, [1]));
        Assert.Contains("granted GPU(s) 1", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => gpus.Allocate("e/d", 1, 1, [5]));
    }

    [Fact]
    public void TheLedger_NeverExceedsAnyDevice_OverAnySequenceOfRequestsAndReleases()
    {
        var random = new Random(20261127);
        var ledger = new Tuner.Abstractions.Placement.GpuLedger(3);
        var held = new List<string>();
        double[] sizes = [0.25, 0.5, 0.75, 1, 2];
        for (var step = 0; step < 5000; step++)
        {
            if (held.Count > 0 && random.Next(3) == 0)
            {
                var key = held[random.Next(held.Count)];
                ledger.Release(key);
                held.Remove(key);
            }
            else
            {
                var key = $"t{step}";
                var size = sizes[random.Next(sizes.Length)];
                var fits = ledger.Fits(size);
                var devices = ledger.Reserve(key, size);
                Assert.Equal(fits, devices is not null);
                if (devices is not null)
                {
                    held.Add(key);
                    Assert.Equal(size >= 1 ? (int)size : 1, devices.Length);
                }
            }

            Assert.All(ledger.Used, u => Assert.InRange(u, 0, 1 + 1e-9));
        }
    }

    [Fact]
    public void NvidiaSmisOutput_GivesEachGpusIndexAndMemory_AndNoNvidiaSmiMeansNoGpus()
    {
        var gpus = GpuDetector.Parse("1, 81559\n0, 81559\nNo devices were found\n\n2,40960\n");

        Assert.Equal([new DetectedGpu(0, 81559), new DetectedGpu(1, 81559), new DetectedGpu(2, 40960)], gpus);
        Assert.Empty(GpuDetector.Detect("/nonexistent/nvidia-smi"));
        Assert.Equal(0, new Tuner.Worker.WorkerOptions { Gpus = 0 }.ResolveGpus());
        Assert.Equal(2, new Tuner.Worker.WorkerOptions { Gpus = 2 }.ResolveGpus());
    }
}
