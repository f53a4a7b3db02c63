using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Tuner.Client;
using Tuner.Embedded;
using Tuner.Client.Space;
using Tuner.Core.Experiments;
using Tuner.Core.Space;

namespace Tuner.Api.Tests;

/// <summary>The client library's own parts: dependency injection, the space builder, retries.</summary>
public sealed class ClientLibraryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddTunerClient_FromConfiguration_ConnectsToTheConfiguredServer()
    {
        await using var server = await TunerServer.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tuner:Client:Address"] = server.Address.ToString(),
            ["Tuner:Client:MaxAttempts"] = "3",
        }).Build();
        await using var services = new ServiceCollection().AddTunerClient(configuration).BuildServiceProvider();

        var client = services.GetRequiredService<ITunerClient>();

        Assert.IsType<TunerClient>(client);
        Assert.Equal(3, services.GetRequiredService<TunerClientOptions>().MaxAttempts);
        var grid = await client.RunAsync(ApiEndToEndTests.Branin(2), cancellationToken: Ct);
        Assert.Equal(ExperimentStatus.Completed, grid.Status);
    }

    [Fact]
    public void TheClientLibrary_NeedsNothingOfTheServer_NorTorchSharp()
    {
        // Every assembly Tuner.Client loads, followed through Tuner's own assemblies.
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var ours = new Queue<System.Reflection.Assembly>([typeof(TunerClient).Assembly]);
        while (ours.TryDequeue(out var assembly))
        {
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (seen.Add(reference.Name!) && reference.Name!.StartsWith("Tuner.", StringComparison.Ordinal))
                {
                    ours.Enqueue(System.Reflection.Assembly.Load(reference));
                }
            }
        }

        Assert.Contains("Tuner.Api", seen);
        Assert.Contains("Grpc.Net.Client", seen);
        Assert.DoesNotContain(seen, name => name.StartsWith("TorchSharp", StringComparison.Ordinal));
        Assert.DoesNotContain(seen, name => name is "Scheduler.Silo" or "TrialWorker" or "tuner-trial" or "Tuner.Training" or "Tuner.Embedded" or "Tuner.Hosting" or "Orleans.Runtime" or "Orleans.Server");
    }

    [Fact]
    public async Task AddEmbeddedTunerClient_RunsAWholeClusterInThisProcess()
    {
        var output = Directory.CreateTempSubdirectory("tuner-di-").FullName;
        await using var services = new ServiceCollection().AddEmbeddedTunerClient(o => o.CpuSlots = 2).BuildServiceProvider();
        var client = services.GetRequiredService<ITunerClient>();

        Assert.IsNotType<TunerClient>(client);
        var grid = await client.RunAsync(ApiEndToEndTests.Branin(2), options: new SubmitOptions { OutputRoot = output }, cancellationToken: Ct);
        Assert.Equal(ExperimentStatus.Completed, grid.Status);
        Assert.StartsWith(output, grid.Experiment.OutputDirectory, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACallMadeWhileTheApiRestarts_IsRetried_AndSucceeds()
    {
        await using var server = await TunerServer.StartAsync();
        using var client = new TunerClient(new TunerClientOptions { Address = server.Address, MaxAttempts = 10 });
        await client.RunAsync(ApiEndToEndTests.Branin(1), cancellationToken: Ct);

        // The call starts while nothing listens (connection refused: UNAVAILABLE) and is retried until the API is back.
        await server.StopApiAsync();
        var listed = client.ListAsync(Ct);
        await server.StartApiAsync();

        Assert.Single(await listed);
    }

    [Fact]
    public void TheSpaceBuilder_MakesTypedAndConditionalDimensions_AndRefusesDuplicates()
    {
        var space = new SearchSpaceBuilder()
            .LogUniform("lr", 1e-4, 1e-1)
            .Choice("optimizer", "adam", "sgd")
            .Uniform("momentum", 0.5, 0.99).When("optimizer", "sgd")
            .RandInt("layers", 1, 5)
            .RandInt("units_3", 8, 64).WhenBetween("layers", 3)
            .Grid("batch_size", 32, 64)
            .Build();

        Assert.Equal(["lr", "optimizer", "momentum", "layers", "units_3", "batch_size"], space.Names);
        Assert.IsType<LogUniformDomain>(space["lr"]);
        Assert.Equal(Condition.In("optimizer", "sgd").Parent, space.ConditionOf("momentum")!.Parent);
        Assert.Equal(3, space.ConditionOf("units_3")!.Min);
        Assert.Null(space.ConditionOf("lr"));
        Assert.Throws<ArgumentException>(() => new SearchSpaceBuilder().Uniform("x", 0, 1).Uniform("x", 0, 2));
        Assert.Throws<InvalidOperationException>(() => new SearchSpaceBuilder().When("a", 1));
    }
}
