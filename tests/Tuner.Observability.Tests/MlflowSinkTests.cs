using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tuner.Embedded;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Observability.Tests;

/// <summary>
/// The MLflow sink against a tracking server in the test that checks every path and body as MLflow's
/// REST API defines them: a parent run per experiment, a nested run per trial with its params, metrics
/// per step in batches, and end statuses. A server that fails every call fails no trial.
/// </summary>
public sealed class MlflowSinkTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ExperimentSpec Spec(string trackingUri) => new()
    {
        Name = "mlflow-sink",
        Trainable = "sleep",
        Metric = "value",
        Mode = OptimizationMode.Max,
        Samples = 3,
        MaxConcurrent = 3,
        Params = new TrialConfig(new Dictionary<string, ParamValue> { ["seconds"] = 0.0, ["reports"] = 700 }),
        Search = new SearchSpec { Algorithm = "random", Seed = 4 },
        Resources = new ResourceSpec { Cpu = 1 },
        Space = new Client.Space.SearchSpaceBuilder().Uniform("x", 0, 1).Choice("kind", "a", "b").Build(),
        Loggers = new LoggersSpec { Mlflow = new MlflowSpec { TrackingUri = trackingUri, Experiment = "tuner-tests" } },
    };

    [Fact]
    public async Task EachTrial_IsANestedRun_WithItsParams_MetricsPerStepInBatches_AndItsStatus()
    {
        await using var server = await FakeMlflow.StartAsync(failEverything: false);
        var output = Directory.CreateTempSubdirectory("tuner-mlflow-").FullName;
        await using var tuner = await EmbeddedTuner.StartAsync(new EmbeddedTunerOptions { CpuSlots = 3 }, Ct);
        try
        {
            var snapshot = await tuner.Client.RunAsync(Spec(server.Address), output, cancellationToken: Ct);
            Assert.Equal(ExperimentStatus.Completed, snapshot.Status);
            var calls = server.Calls.ToList();
            Assert.Empty(server.Problems);

            // The MLflow experiment is looked up by name, then created.
            Assert.Equal(("GET", "/api/2.0/mlflow/experiments/get-by-name"), (calls[0].Method, calls[0].Path));
            Assert.Equal("tuner-tests", calls[0].Query["experiment_name"]);
            Assert.Equal("/api/2.0/mlflow/experiments/create", calls[1].Path);
            Assert.Equal("tuner-tests", calls[1].Body!["name"]!.GetValue<string>());

            // One parent run, then one nested run per trial.
            var creates = calls.Where(c => c.Path == "/api/2.0/mlflow/runs/create").ToList();
            Assert.Equal(4, creates.Count);
            Assert.All(creates, c => Assert.Equal(FakeMlflow.ExperimentId, c.Body!["experiment_id"]!.GetValue<string>()));
            var parent = creates[0];
            Assert.Equal("mlflow-sink", parent.Body!["run_name"]!.GetValue<string>());
            var parentId = parent.RunId!;
            var trialRuns = creates.Skip(1).ToDictionary(c => c.Body!["run_name"]!.GetValue<string>(), c => c);
            Assert.Equal(["t00001", "t00002", "t00003"], trialRuns.Keys.Order());
            Assert.All(trialRuns.Values, c => Assert.Equal(parentId, Tag(c.Body!, "mlflow.parentRunId")));

            var batches = calls.Where(c => c.Path == "/api/2.0/mlflow/runs/log-batch").ToList();
            foreach (var (trialId, create) in trialRuns)
            {
                var runBatches = batches.Where(b => b.Body!["run_id"]!.GetValue<string>() == create.RunId).ToList();

                // Params: the trial's config, as recorded in its folder.
                var parameters = runBatches.SelectMany(b => b.Body!["params"]?.AsArray() ?? []).ToDictionary(p => p!["key"]!.GetValue<string>(), p => p!["value"]!.GetValue<string>());
                var trial = snapshot.Rows.Single(r => r.TrialId == trialId);
                Assert.Equal(trial.Config.ToDictionary(p => p.Key, p => p.Value.ToString()), parameters);

                // Metrics: every reported value at its step, once, in batches of at most 1,000.
                var metrics = runBatches.Select(b => b.Body!["metrics"]?.AsArray()).OfType<JsonArray>().ToList();
                Assert.All(metrics, m => Assert.InRange(m.Count, 1, 1000));
                Assert.True(metrics.Count < 700, $"{metrics.Count} log-batch calls for 700 results: not batched");
                var values = metrics.SelectMany(m => m).Where(m => m!["key"]!.GetValue<string>() == "value").Select(m => m!["step"]!.GetValue<long>()).ToList();
                Assert.Equal(Enumerable.Range(1, 700).Select(i => (long)i), values);
                var results = Tuner.Core.Results.RunFolderWriter.ReadResults(snapshot.OutputDirectory!, trialId);
                var last = metrics.SelectMany(m => m).Last(m => m!["key"]!.GetValue<string>() == "value");
                Assert.Equal(results[^1].Metrics["value"], last!["value"]!.GetValue<double>(), 12);
                Assert.Equal((long)(results[^1].Timestamp * 1000), last["timestamp"]!.GetValue<long>());

                // The end: FINISHED, after every metric.
                var update = Assert.Single(calls, c => c.Path == "/api/2.0/mlflow/runs/update" && c.Body!["run_id"]!.GetValue<string>() == create.RunId);
                Assert.Equal("FINISHED", update.Body!["status"]!.GetValue<string>());
                Assert.True(calls.IndexOf(update) > calls.IndexOf(runBatches[^1]));
            }

            var end = calls[^1];
            Assert.Equal(("/api/2.0/mlflow/runs/update", parentId, "FINISHED"), (end.Path, end.Body!["run_id"]!.GetValue<string>(), end.Body!["status"]!.GetValue<string>()));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task AServerThatFailsEveryCall_FailsNoTrial_AndIsReportedOnce()
    {
        await using var server = await FakeMlflow.StartAsync(failEverything: true);
        var output = Directory.CreateTempSubdirectory("tuner-mlflow-").FullName;
        var logs = new ConcurrentQueue<string>();
        await using var tuner = await EmbeddedTuner.StartAsync(
            new EmbeddedTunerOptions { CpuSlots = 3, ConfigureLogging = l => l.AddProvider(new ListLoggerProvider(logs)) },
            Ct);
        try
        {
            var snapshot = await tuner.Client.RunAsync(Spec(server.Address) with { Params = new TrialConfig(new Dictionary<string, ParamValue> { ["seconds"] = 0.0, ["reports"] = 20 }) }, output, cancellationToken: Ct);
            Assert.Equal(ExperimentStatus.Completed, snapshot.Status);
            Assert.Equal(3, snapshot.StateCounts[TrialStatus.Terminated]);
            foreach (var trial in snapshot.Rows)
            {
                Assert.Equal(20, Tuner.Core.Results.RunFolderWriter.ReadResults(snapshot.OutputDirectory!, trial.TrialId).Count);
            }

            // Retried (500 is worth retrying), then given up on, and said once.
            Assert.True(server.Calls.Count(c => c.Path.EndsWith("get-by-name", StringComparison.Ordinal)) > 1);
            var warnings = logs.Where(l => l.Contains("MLflow", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(warnings);
            Assert.Equal(warnings.Count, warnings.Distinct().Count());
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static string? Tag(JsonObject body, string key) =>
        body["tags"]?.AsArray().FirstOrDefault(t => t!["key"]!.GetValue<string>() == key)?["value"]?.GetValue<string>();

    private sealed record Call(string Method, string Path, IReadOnlyDictionary<string, string> Query, JsonObject? Body, string? RunId);

    /// <summary>The tracking server: checks each call's method, path and body, answers as MLflow does.</summary>
    private sealed class FakeMlflow : IAsyncDisposable
    {
        public const string ExperimentId = "17";
        private readonly WebApplication _app;
        private int _runs;
        private bool _created;

        private FakeMlflow(WebApplication app) => _app = app;

        public string Address { get; private set; } = string.Empty;

        public ConcurrentQueue<Call> Calls { get; } = new();

        public ConcurrentQueue<string> Problems { get; } = new();

        public static async Task<FakeMlflow> StartAsync(bool failEverything)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var server = new FakeMlflow(app);
            app.Run(async context => await server.HandleAsync(context, failEverything));
            await app.StartAsync();
            server.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return server;
        }

        private async Task HandleAsync(HttpContext context, bool failEverything)
        {
            var request = context.Request;
            JsonObject? body = null;
            if (request.Method == "POST")
            {
                if (request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true)
                {
                    Problems.Enqueue($"{request.Path}: content type {request.ContentType}");
                }

                body = (JsonObject?)JsonNode.Parse(await new StreamReader(request.Body).ReadToEndAsync());
            }

            var path = request.Path.Value ?? string.Empty;
            var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString());
            if (failEverything)
            {
                Calls.Enqueue(new Call(request.Method, path, query, body, null));
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("""{"error_code":"INTERNAL_ERROR","message":"down"}""");
                return;
            }

            string? runId = null;
            JsonObject answer = [];
            switch (request.Method, path)
            {
                case ("GET", "/api/2.0/mlflow/experiments/get-by-name") when !_created:
                    Calls.Enqueue(new Call(request.Method, path, query, body, null));
                    context.Response.StatusCode = 404;
                    await context.Response.WriteAsync("""{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no such experiment"}""");
                    return;
                case ("GET", "/api/2.0/mlflow/experiments/get-by-name"):
                    answer["experiment"] = new JsonObject { ["experiment_id"] = ExperimentId, ["name"] = query["experiment_name"] };
                    break;
                case ("POST", "/api/2.0/mlflow/experiments/create"):
                    Require(path, body, "name");
                    _created = true;
                    answer["experiment_id"] = ExperimentId;
                    break;
                case ("POST", "/api/2.0/mlflow/runs/create"):
                    Require(path, body, "experiment_id", "run_name", "start_time");
                    runId = $"run{Interlocked.Increment(ref _runs)}";
                    answer["run"] = new JsonObject { ["info"] = new JsonObject { ["run_id"] = runId, ["experiment_id"] = ExperimentId, ["status"] = "RUNNING" } };
                    break;
                case ("POST", "/api/2.0/mlflow/runs/log-batch"):
                    Require(path, body, "run_id");
                    if ((body!["metrics"]?.AsArray().Count ?? 0) > 1000 || (body["params"]?.AsArray().Count ?? 0) > 100)
                    {
                        Problems.Enqueue($"{path}: more than MLflow allows in one call");
                    }

                    foreach (var metric in body["metrics"]?.AsArray() ?? [])
                    {
                        Require(path, (JsonObject)metric!, "key", "value", "timestamp", "step");
                    }

                    break;
                case ("POST", "/api/2.0/mlflow/runs/update"):
                    Require(path, body, "run_id", "status", "end_time");
                    break;
                default:
                    Problems.Enqueue($"unexpected {request.Method} {path}");
                    context.Response.StatusCode = 404;
                    return;
            }

            Calls.Enqueue(new Call(request.Method, path, query, body, runId));
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.ToJsonString());
        }

        private void Require(string path, JsonObject? body, params string[] fields)
        {
            foreach (var field in fields)
            {
                if (body?[field] is null)
                {
                    Problems.Enqueue($"{path}: no '{field}' in {body?.ToJsonString()}");
                }
            }
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }

    private sealed class ListLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ListLogger(lines);

        public void Dispose()
        {
        }

        private sealed class ListLogger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(formatter(state, exception));
        }
    }
}
