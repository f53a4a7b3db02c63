using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Tuner.Abstractions.Messages;
using Tuner.Client;
using Tuner.Client.Results;
using Tuner.Client.Space;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Api.Tests;

/// <summary>Every tuner.v1 call through <see cref="TunerClient"/> against a real Kestrel on loopback.</summary>
public sealed class ApiEndToEndTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static ExperimentSpec Branin(int samples = 6) => new()
    {
        Name = "api-branin",
        Trainable = "branin",
        Metric = "value",
        Samples = samples,
        MaxConcurrent = 2,
        Search = new SearchSpec { Algorithm = "random", Seed = 3 },
        Stop = new StopSpec { TrainingIteration = 5 },
        Resources = new ResourceSpec { Cpu = 0.5 },
        Space = new SearchSpaceBuilder().Uniform("x1", -5, 10).Uniform("x2", 0, 15).Build(),
    };

    internal static ExperimentSpec Sleep(int samples, int reports, double seconds, int concurrent = 2) => new()
    {
        Name = "api-sleep",
        Trainable = "sleep",
        Metric = "value",
        Samples = samples,
        MaxConcurrent = concurrent,
        Params = new TrialConfig(new Dictionary<string, ParamValue> { ["reports"] = reports, ["seconds"] = seconds }),
        Checkpoint = new CheckpointSpec { Frequency = 1 },
        Resources = new ResourceSpec { Cpu = 0.5 },
        Space = new SearchSpaceBuilder().Uniform("x", 0, 1).Build(),
    };

    [Fact]
    public async Task EveryCall_SubmitGetListWatchTrials_AgreesWithTheRunFolder()
    {
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();

        var submitted = await client.SubmitAsync(Branin(), new SubmitOptions { ExperimentId = "branin-e2e" }, Ct);
        var again = await client.SubmitAsync(Branin(), new SubmitOptions { ExperimentId = "branin-e2e" }, Ct);
        Assert.Equal("branin-e2e", submitted.ExperimentId);
        Assert.Equal(submitted.ExperimentId, again.ExperimentId);
        var other = await Assert.ThrowsAsync<TunerRequestException>(() => client.SubmitAsync(Branin(7), new SubmitOptions { ExperimentId = "branin-e2e" }, Ct));
        Assert.Equal(RequestFailure.AlreadyExists, other.Failure);

        var events = new List<ExperimentEvent>();
        await foreach (var e in client.WatchAsync("branin-e2e", 0, Ct))
        {
            events.Add(e);
        }

        // Positions count from 1 without a gap; the stream ends with the experiment's end.
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Position));
        Assert.Equal(ExperimentStatus.Completed, events[^1].ExperimentStatus);
        Assert.Equal(6, events.Count(e => e.Kind == ExperimentEventKind.TrialCreated));
        Assert.Equal(30, events.Count(e => e.Kind == ExperimentEventKind.Result));

        var experiment = await client.GetAsync("branin-e2e", 100, Ct);
        Assert.Equal(ExperimentStatus.Completed, experiment.Status);
        Assert.Equal(6, experiment.Count(TrialStatus.Terminated));
        Assert.Contains(await client.ListAsync(Ct), e => e.ExperimentId == "branin-e2e" && e.Status == ExperimentStatus.Completed);

        var trials = await client.ListTrialsAsync("branin-e2e", Ct);
        Assert.Equal(["t00001", "t00002", "t00003", "t00004", "t00005", "t00006"], trials.Select(t => t.TrialId));
        var trial = await client.GetTrialAsync("branin-e2e", "t00003", Ct);
        Assert.Equal(TrialStatus.Terminated, trial.Status);
        Assert.Equal(5, trial.LastIteration);
        var lines = RunRows.Lines(experiment.OutputDirectory!, "t00003");
        Assert.Equal(5, lines.Count);
        Assert.Equal(trial.LastResult!.GetMetric("value")!.Value, System.Text.Json.JsonDocument.Parse(lines[^1]).RootElement.GetProperty("value").GetDouble(), 12);

        // The result grid replays every result; its best is the experiment's best.
        var grid = await client.FollowAsync("branin-e2e", cancellationToken: Ct);
        Assert.All(grid.Trials, t => Assert.Equal([1L, 2, 3, 4, 5], t.Results.Select(r => r.TrainingIteration)));
        Assert.Equal(experiment.Best!.TrialId, grid.GetBestResult()!.Trial.TrialId);
        var bestEver = grid.GetBestResult(scope: ResultScope.All)!;
        Assert.Equal(grid.Trials.SelectMany(t => t.Results).Min(r => r.GetMetric("value")!.Value), bestEver.Value);
        var csv = grid.ToCsv().TrimEnd().Split('\n');
        Assert.Equal(7, csv.Length);
        Assert.StartsWith("trial_id,status,iterations,failures,config/x1,config/x2,value", csv[0]);

        // What does not exist, and what its state does not allow, say so.
        Assert.Equal(RequestFailure.NotFound, (await Assert.ThrowsAsync<TunerRequestException>(() => client.GetAsync("nope", 20, Ct))).Failure);
        Assert.Equal(RequestFailure.NotFound, (await Assert.ThrowsAsync<TunerRequestException>(() => client.GetTrialAsync("branin-e2e", "t09999", Ct))).Failure);
        Assert.Equal(RequestFailure.FailedPrecondition, (await Assert.ThrowsAsync<TunerRequestException>(() => client.ResumeAsync("branin-e2e", Ct))).Failure);
    }

    [Fact]
    public async Task TwoObjectives_TheExperimentCarriesTheParetoFront_AndNoBest()
    {
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();
        var builder = new SearchSpaceBuilder();
        for (var i = 1; i <= 6; i++)
        {
            builder.Uniform($"x{i}", 0, 1);
        }

        // The C# builder's form of metric: [f1, f2], mode: [min, max].
        var spec = new ExperimentSpec
        {
            Name = "api-zdt",
            Trainable = "zdt2",
            Metric = "f1",
            MoreObjectives = [new Objective("f2", OptimizationMode.Max)],
            Samples = 12,
            MaxConcurrent = 2,
            Search = new SearchSpec { Algorithm = "tpe", Seed = 1 },
            Resources = new ResourceSpec { Cpu = 0.5 },
            Space = builder.Build(),
        };

        await client.SubmitAsync(spec, new SubmitOptions { ExperimentId = "zdt-e2e" }, Ct);
        await foreach (var _ in client.WatchAsync("zdt-e2e", 0, Ct))
        {
        }

        var experiment = await client.GetAsync("zdt-e2e", 100, Ct);
        Assert.Equal(ExperimentStatus.Completed, experiment.Status);
        Assert.Null(experiment.Best);
        Assert.Equal(["f1", "f2"], experiment.Metrics);
        var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(experiment.OutputDirectory!, "experiment.json"))).RootElement;
        var written = document.GetProperty("pareto_front").EnumerateArray().Select(t => t.GetProperty("trial_id").GetString()).ToList();
        Assert.NotEmpty(written);
        Assert.Equal(written, experiment.ParetoFront!.Select(t => t.TrialId));
        Assert.All(experiment.ParetoFront!, t => Assert.NotNull(t.LastResult.GetMetric("f2")));
    }

    [Fact]
    public async Task ExtendExperiment_ContinuesACompletedExperiment_ToMoreSamples()
    {
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();
        // Stopped: only a completed experiment can be extended (a stopped one is resumed).
        await client.SubmitAsync(Sleep(2, 100_000, 0.01), new SubmitOptions { ExperimentId = "sleep-stopped" }, Ct);
        await client.StopAsync("sleep-stopped", "enough", Ct);
        var stopped = await Assert.ThrowsAsync<TunerRequestException>(() => client.ExtendAsync("sleep-stopped", 8, Ct));
        Assert.Equal(RequestFailure.FailedPrecondition, stopped.Failure);
        Assert.Contains("a stopped one is resumed", stopped.Message, StringComparison.Ordinal);

        await client.SubmitAsync(Branin(4), new SubmitOptions { ExperimentId = "branin-extend" }, Ct);
        await foreach (var _ in client.WatchAsync("branin-extend", 0, Ct))
        {
        }

        var smaller = await Assert.ThrowsAsync<SpecException>(() => client.ExtendAsync("branin-extend", 4, Ct));
        Assert.Equal("samples", Assert.Single(smaller.Errors).Path);

        var extended = await client.ExtendAsync("branin-extend", 7, Ct);
        Assert.Equal(ExperimentStatus.Running, extended.Status);
        Assert.Equal(7, extended.TotalTrials);
        var last = 0L;
        await foreach (var e in client.WatchAsync("branin-extend", 0, Ct))
        {
            last = e.Position;
        }

        var experiment = await client.GetAsync("branin-extend", 100, Ct);
        Assert.Equal(ExperimentStatus.Completed, experiment.Status);
        Assert.Equal(7, experiment.Count(TrialStatus.Terminated));
        Assert.True(last > 0);
        Assert.All(Enumerable.Range(1, 7), i => Assert.Equal(5, RunRows.Lines(experiment.OutputDirectory!, $"t{i:D5}").Count));
    }

    [Fact]
    public async Task StopThenResume_InterruptedTrialsContinueFromTheirCheckpoints_AndNoIterationRepeats()
    {
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();
        var id = (await client.SubmitAsync(Sleep(samples: 4, reports: 8, seconds: 0.05), cancellationToken: Ct)).ExperimentId;
        await Eventually.GetAsync(() => client.GetAsync(id, 20, Ct), s => s.ResultsReported >= 4, what: "four results");

        var stopped = await client.StopAsync(id, "pause for lunch", Ct);
        Assert.Equal(ExperimentStatus.Stopped, stopped.Status);
        Assert.Equal("pause for lunch", stopped.StatusReason);
        var before = stopped.ResultsReported;
        Assert.True(before < 32, $"the stop came after every result ({before})");

        var resumed = await client.ResumeAsync(id, Ct);
        Assert.Equal(ExperimentStatus.Running, resumed.Status);
        var grid = await client.FollowAsync(id, cancellationToken: Ct);
        Assert.Equal(ExperimentStatus.Completed, grid.Status);
        Assert.Equal(4, grid.Trials.Count);
        Assert.All(grid.Trials, t =>
        {
            Assert.Equal(TrialStatus.Terminated, t.Status);
            Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), t.Results.Select(r => r.TrainingIteration));
        });
        foreach (var t in grid.Trials)
        {
            var iterations = RunRows.Iterations(grid.Experiment.OutputDirectory!, t.TrialId);
            Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), iterations);
        }
    }

    [Fact]
    public async Task StopTrial_EndsThatTrialOnly_WithTheReasonRecordedAsADecision()
    {
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();
        var id = (await client.SubmitAsync(Sleep(samples: 2, reports: 400, seconds: 0.05), cancellationToken: Ct)).ExperimentId;
        await Eventually.GetAsync(() => client.GetTrialAsync(id, "t00001", Ct), t => t.Status == TrialStatus.Running && t.LastIteration >= 1, what: "t00001 running");

        var trial = await client.StopTrialAsync(id, "t00001", "enough of this one", Ct);
        trial = await Eventually.GetAsync(() => client.GetTrialAsync(id, "t00001", Ct), t => t.Status == TrialStatus.Terminated, what: "t00001 terminated");
        Assert.Equal("enough of this one", trial.StatusReason);
        var rows = await client.ListTrialsAsync(id, Ct);
        Assert.Contains(rows.Single(r => r.TrialId == "t00001").Decisions!, d => d.Contains("stop", StringComparison.Ordinal) && d.Contains("enough of this one", StringComparison.Ordinal));
        Assert.Equal(TrialStatus.Running, rows.Single(r => r.TrialId == "t00002").Status);

        await client.StopAsync(id, cancellationToken: Ct);
    }

    [Fact]
    public async Task Watch_ReconnectsAcrossAnApiRestart_WithoutMissingOrRepeatingAnEvent()
    {
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();
        var id = (await client.SubmitAsync(Sleep(samples: 6, reports: 10, seconds: 0.03), cancellationToken: Ct)).ExperimentId;

        var events = new List<ExperimentEvent>();
        var restarted = false;
        await foreach (var e in client.WatchAsync(id, 0, Ct))
        {
            events.Add(e);
            if (!restarted && events.Count == 15)
            {
                // The front end goes away mid-stream and comes back on the same port; the silo runs on.
                restarted = true;
                await server.RestartApiAsync();
            }
        }

        Assert.True(restarted);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Position));
        Assert.Equal(ExperimentStatus.Completed, events[^1].ExperimentStatus);
        Assert.All(events.Where(e => e.Kind == ExperimentEventKind.Result).GroupBy(e => e.TrialId), g =>
            Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), g.Select(e => e.Result!.TrainingIteration)));

        // A watch can also start anywhere: from position 10 it gets the rest, once.
        var tail = new List<long>();
        await foreach (var e in client.WatchAsync(id, 10, Ct))
        {
            tail.Add(e.Position);
        }

        Assert.Equal(events.Skip(10).Select(e => e.Position), tail);
    }

    [Fact]
    public async Task AnInvalidSpec_IsInvalidArgument_WithAFieldViolationPerProblem()
    {
        await using var server = await TunerServer.StartAsync();
        var raw = server.Raw();
        var yaml = "name: bad\ntrainable: branin\nmetric: value\nmode: sideways\nsamples: 0\nspace:\n  x1: { uniform: [10, -5] }\n";
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await raw.SubmitExperimentAsync(new V1.SubmitExperimentRequest { Spec = yaml }, cancellationToken: Ct));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var fields = ex.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Field).ToList();
        Assert.Contains("mode", fields);
        Assert.Contains("samples", fields);
        Assert.Contains(fields, f => f.StartsWith("space.x1", StringComparison.Ordinal));

        using var client = server.Client();
        var spec = Branin() with { Metric = "loss" };
        var error = await Assert.ThrowsAsync<SpecException>(() => client.SubmitAsync(spec, cancellationToken: Ct));
        Assert.Contains(error.Errors, e => e.Path == "metric" && e.Message.Contains("value", StringComparison.Ordinal));
        Assert.Empty(await client.ListAsync(Ct));
    }

    [Fact]
    public async Task HealthAndReflection_AreServed()
    {
        await using var server = await TunerServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address);
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: Ct);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(channel);
        using var call = reflection.ServerReflectionInfo(cancellationToken: Ct);
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = string.Empty }, Ct);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(Ct));
        Assert.Contains(call.ResponseStream.Current.ListServicesResponse.Service, s => s.Name == "tuner.v1.Tuner");
    }
}
