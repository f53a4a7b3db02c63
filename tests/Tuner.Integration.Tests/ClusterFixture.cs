using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Tuner.Client;
using Tuner.Embedded;
using Tuner.Core.Trainables;
using Tuner.Scheduler.Hosting;
using Tuner.Worker.Hosting;

namespace Tuner.Integration.Tests;

/// <summary>One in-process Orleans cluster for the grain tests: the control plane and a worker with two CPU slots.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const double WorkerCpuSlots = 2;

    /// <summary>A trainable that declares <c>value</c> but reports <c>loss</c>: what a buggy user trainable does.</summary>
    public const string MislabelledTrainable = "mislabelled";

    /// <summary>A trainable whose validation loss stops improving after 8 iterations at a constant learning rate.</summary>
    public const string PlateauTrainable = "plateau";

    /// <summary>A trainable that reports through one dictionary it changes every step.</summary>
    public const string ReusingTrainable = "reusing";

    private InProcessTestCluster? _cluster;

    public ClusterTunerClient Client { get; private set; } = null!;

    public IGrainFactory Grains => _cluster!.Client;

    public string OutputRoot { get; } = Path.Combine(Path.GetTempPath(), $"tuner-it-{Guid.NewGuid():N}");

    public async ValueTask InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            var registry = TrainableRegistry.CreateDefault();
            registry.Register(NoopTrainable.Descriptor with { Name = MislabelledTrainable, Create = () => new Mislabelled() });
            registry.Register(NoopTrainable.Descriptor with { Name = ReusingTrainable, Create = () => new ReusesItsMetrics() });
            registry.Register(NoopTrainable.Descriptor with { Name = PlateauTrainable, Metrics = ["value", "valid_loss", "lr"], Create = () => new Plateaus() });
            silo.Services.AddSingleton(registry);
            // The worker never heartbeats here (below), so the lease that would declare it lost is as long.
            silo.AddTunerControlPlane(o => o.WorkerLease = TimeSpan.FromHours(2));
            silo.AddTunerWorker(w =>
            {
                w.WorkerId = "test-worker";
                w.CpuSlots = WorkerCpuSlots;

                // No heartbeat to paper over a worker the scheduler wrongly dropped.
                w.HeartbeatInterval = TimeSpan.FromHours(1);
            });
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
        Client = new ClusterTunerClient(_cluster.Client) { PollInterval = TimeSpan.FromMilliseconds(20) };
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.StopAllSilosAsync();
            await _cluster.DisposeAsync();
        }

        if (Directory.Exists(OutputRoot))
        {
            Directory.Delete(OutputRoot, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

internal sealed class Mislabelled : ITrainable
{
    private long _iteration;

    public ValueTask SetupAsync(TrialContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<StepResult> StepAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new StepResult(new Dictionary<string, double> { ["loss"] = ++_iteration }, _iteration >= 3));

    public ValueTask SaveCheckpointAsync(string directory, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask RestoreCheckpointAsync(string directory, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal sealed class ReusesItsMetrics : ITrainable
{
    private readonly Dictionary<string, double> _metrics = [];
    private long _iteration;

    public ValueTask SetupAsync(TrialContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<StepResult> StepAsync(CancellationToken cancellationToken)
    {
        _metrics["value"] = ++_iteration;
        return ValueTask.FromResult(new StepResult(_metrics, _iteration >= 4));
    }

    public ValueTask SaveCheckpointAsync(string directory, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask RestoreCheckpointAsync(string directory, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal sealed class Plateaus : ITrainable
{
    private long _iteration;

    public ValueTask SetupAsync(TrialContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<StepResult> StepAsync(CancellationToken cancellationToken)
    {
        _iteration++;
        var loss = _iteration < 8 ? 1.0 / _iteration : 0.125;
        return ValueTask.FromResult(new StepResult(new Dictionary<string, double> { ["value"] = loss, ["valid_loss"] = loss, ["lr"] = 0.01 }, _iteration >= 20));
    }

    public ValueTask SaveCheckpointAsync(string directory, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask RestoreCheckpointAsync(string directory, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
