using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Telemetry;

namespace Tuner.Core.Results.Sinks;

/// <summary>
/// Logs an experiment to an MLflow tracking server through its REST API (<c>/api/2.0/mlflow/</c>): the
/// experiment is a parent run in the MLflow experiment <c>loggers.mlflow.experiment</c> (created when
/// missing), each trial a nested run (tag <c>mlflow.parentRunId</c>) with its config as params, every
/// reported metric per step, and its end status. Calls go out in the background, in order, metrics in
/// batches (<c>runs/log-batch</c>, at most 1,000 metrics and 100 params a call); a call that still fails
/// after retries is dropped, counted in <c>tuner.sink.failures</c> and logged once. Nothing here can fail
/// or slow a trial.
/// </summary>
public sealed partial class MlflowSink : IResultSink
{
    private const int MaxMetricsPerBatch = 1000;
    private const int MaxParamsPerBatch = 100;
    private static readonly TimeSpan[] Backoff = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)];

    private readonly MlflowSpec _spec;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly Channel<Op> _ops = Channel.CreateUnbounded<Op>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Dictionary<string, string> _runs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _loggedFailures = new(StringComparer.Ordinal);
    private readonly Task _worker;
    private string? _experimentId;
    private string? _mlflowExperiment;
    private string? _parentRun;
    private string _tunerExperiment = string.Empty;

    public MlflowSink(MlflowSpec spec, ILogger logger, HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        _spec = spec;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        var baseAddress = new Uri(spec.TrackingUri.TrimEnd('/') + "/api/2.0/mlflow/");
        _http = handler is null ? new HttpClient { BaseAddress = baseAddress } : new HttpClient(handler, disposeHandler: false) { BaseAddress = baseAddress };
        _http.Timeout = TimeSpan.FromSeconds(30);
        _worker = Task.Run(WorkAsync);
    }

    // With several objectives the trials' runs are kept past their end, to tag the Pareto front's at the experiment's.
    private bool _keepRuns;

    public string Name => "mlflow";

    public void ExperimentStarted(string experimentId, ExperimentSpec spec, string runDirectory, DateTimeOffset at, bool resumed)
    {
        _keepRuns = spec.IsMultiObjective;
        Enqueue(new Op.Start(experimentId, spec.Name, _spec.Experiment ?? spec.Name, runDirectory, at, resumed));
    }

    /// <summary>Each front trial's run gets the tag <c>tuner.pareto_front: true</c>; the parent run lists them in <c>tuner.pareto_front</c>.</summary>
    public void ParetoFront(IReadOnlyList<string> trialIds) => Enqueue(new Op.Front(trialIds));

    public void TrialCreated(string trialId, TrialConfig config, DateTimeOffset at) => Enqueue(new Op.Trial(trialId, config, at));

    public void Result(string trialId, TrialResult result) => Enqueue(new Op.Metrics(trialId, result));

    public void TrialEnded(string trialId, TrialStatus status, DateTimeOffset at) => Enqueue(new Op.End(trialId, status == TrialStatus.Error ? "FAILED" : "FINISHED", at));

    public async Task ExperimentEndedAsync(ExperimentStatus status, DateTimeOffset at)
    {
        Enqueue(new Op.End(null, status switch { ExperimentStatus.Completed => "FINISHED", ExperimentStatus.Stopped => "KILLED", _ => "FAILED" }, at));
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Op.Drained(done));

        // Everything queued goes out before the experiment reports its end, unless the server is that slow.
        await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(30), _time)).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _ops.Writer.TryComplete();
        await Task.WhenAny(_worker, Task.Delay(TimeSpan.FromSeconds(30), _time)).ConfigureAwait(false);
        _http.Dispose();
    }

    private void Enqueue(Op op) => _ops.Writer.TryWrite(op);

    private async Task WorkAsync()
    {
        var reader = _ops.Reader;
        var batch = new List<Op>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Whatever queued meanwhile goes together: consecutive results become log-batch calls.
            batch.Clear();
            while (batch.Count < 10_000 && reader.TryRead(out var op))
            {
                batch.Add(op);
            }

            var metrics = new List<(string Trial, TrialResult Result)>();
            foreach (var op in batch)
            {
                if (op is Op.Metrics m)
                {
                    metrics.Add((m.TrialId, m.Result));
                    continue;
                }

                await SendMetricsAsync(metrics).ConfigureAwait(false);
                metrics.Clear();
                try
                {
                    await ApplyAsync(op).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Failed(op.GetType().Name, ex);
                }
            }

            await SendMetricsAsync(metrics).ConfigureAwait(false);
        }
    }

    private async Task ApplyAsync(Op op)
    {
        switch (op)
        {
            case Op.Start start:
                _tunerExperiment = start.ExperimentId;
                _mlflowExperiment = start.MlflowExperiment;
                _experimentId = await ExperimentIdAsync(start.MlflowExperiment).ConfigureAwait(false);
                _parentRun = await CreateRunAsync(start.Resumed ? $"{start.Name} (restored)" : start.Name, start.At, [
                    ("tuner.experiment_id", start.ExperimentId),
                    ("tuner.run_directory", start.RunDirectory),
                ]).ConfigureAwait(false);
                break;
            case Op.Trial trial:
                var run = await CreateRunAsync(trial.TrialId, trial.At, [("mlflow.parentRunId", Parent()), ("tuner.trial_id", trial.TrialId)]).ConfigureAwait(false);
                _runs[trial.TrialId] = run;
                var parameters = trial.Config.Select(p => new JsonObject { ["key"] = p.Key, ["value"] = p.Value.ToString() }).ToList();
                for (var i = 0; i < parameters.Count; i += MaxParamsPerBatch)
                {
                    await PostAsync("runs/log-batch", new JsonObject { ["run_id"] = run, ["params"] = new JsonArray([.. parameters.Skip(i).Take(MaxParamsPerBatch)]) }).ConfigureAwait(false);
                }

                break;
            case Op.End { TrialId: { } trialId } end:
                if (_keepRuns ? _runs.TryGetValue(trialId, out var ended) : _runs.Remove(trialId, out ended))
                {
                    await UpdateAsync(ended, end.Status, end.At).ConfigureAwait(false);
                }

                break;
            case Op.Front front:
                foreach (var trialId in front.TrialIds)
                {
                    if (_runs.TryGetValue(trialId, out var frontRun))
                    {
                        await PostAsync("runs/set-tag", new JsonObject { ["run_id"] = frontRun, ["key"] = "tuner.pareto_front", ["value"] = "true" }).ConfigureAwait(false);
                    }
                }

                var listed = string.Join(",", front.TrialIds);
                await PostAsync("runs/set-tag", new JsonObject { ["run_id"] = Parent(), ["key"] = "tuner.pareto_front", ["value"] = listed.Length <= 5000 ? listed : listed[..5000] }).ConfigureAwait(false);
                break;
            case Op.End end:
                await UpdateAsync(Parent(), end.Status, end.At).ConfigureAwait(false);
                break;
            case Op.Drained drained:
                drained.Done.TrySetResult();
                break;
        }
    }

    private async Task SendMetricsAsync(List<(string Trial, TrialResult Result)> results)
    {
        foreach (var group in results.GroupBy(r => r.Trial))
        {
            if (!_runs.TryGetValue(group.Key, out var run))
            {
                // Its run could not be created (counted then), or a trial from before a restart: nothing to log it under.
                Count();
                continue;
            }

            var metrics = group.SelectMany(r => r.Result.Metrics
                    .Where(m => double.IsFinite(m.Value))
                    .Select(m => new JsonObject
                    {
                        ["key"] = m.Key,
                        ["value"] = m.Value,
                        ["timestamp"] = (long)(r.Result.Timestamp * 1000),
                        ["step"] = r.Result.TrainingIteration,
                    }))
                .ToList();
            for (var i = 0; i < metrics.Count; i += MaxMetricsPerBatch)
            {
                try
                {
                    await PostAsync("runs/log-batch", new JsonObject { ["run_id"] = run, ["metrics"] = new JsonArray([.. metrics.Skip(i).Take(MaxMetricsPerBatch)]) }).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Failed("log-batch", ex);
                }
            }
        }
    }

    private string Parent() => _parentRun ?? throw new InvalidOperationException($"the MLflow parent run of {_tunerExperiment} was not created");

    private async Task<string> ExperimentIdAsync(string name)
    {
        using var found = await SendAsync(() => _http.GetAsync($"experiments/get-by-name?experiment_name={Uri.EscapeDataString(name)}"), allowNotFound: true).ConfigureAwait(false);
        if (found.StatusCode != HttpStatusCode.NotFound)
        {
            var body = await found.Content.ReadFromJsonAsync<JsonObject>().ConfigureAwait(false);
            return body?["experiment"]?["experiment_id"]?.GetValue<string>() ?? throw new InvalidDataException("experiments/get-by-name answered without experiment.experiment_id");
        }

        var created = await PostAsync("experiments/create", new JsonObject { ["name"] = name }).ConfigureAwait(false);
        return created?["experiment_id"]?.GetValue<string>() ?? throw new InvalidDataException("experiments/create answered without experiment_id");
    }

    private async Task<string> CreateRunAsync(string name, DateTimeOffset at, IEnumerable<(string Key, string Value)> tags)
    {
        var body = new JsonObject
        {
            ["experiment_id"] = _experimentId ?? throw new InvalidOperationException($"the MLflow experiment '{_mlflowExperiment}' is not known"),
            ["run_name"] = name,
            ["start_time"] = at.ToUnixTimeMilliseconds(),
            ["tags"] = new JsonArray([.. tags.Select(t => new JsonObject { ["key"] = t.Key, ["value"] = t.Value })]),
        };
        var answer = await PostAsync("runs/create", body).ConfigureAwait(false);
        return answer?["run"]?["info"]?["run_id"]?.GetValue<string>() ?? throw new InvalidDataException("runs/create answered without run.info.run_id");
    }

    private Task UpdateAsync(string run, string status, DateTimeOffset at) =>
        PostAsync("runs/update", new JsonObject { ["run_id"] = run, ["status"] = status, ["end_time"] = at.ToUnixTimeMilliseconds() });

    private async Task<JsonObject?> PostAsync(string path, JsonObject body)
    {
        var text = body.ToJsonString();
        using var response = await SendAsync(() => _http.PostAsync(path, new StringContent(text, System.Text.Encoding.UTF8, "application/json"))).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<JsonObject>().ConfigureAwait(false);
    }

    /// <summary>Sends with retries on network errors, 429 and 5xx; anything else that is not a success is an error naming the call.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<Task<HttpResponseMessage>> send, bool allowNotFound = false)
    {
        for (var attempt = 0; ; attempt++)
        {
            HttpResponseMessage? response = null;
            try
            {
                response = await send().ConfigureAwait(false);
                if (response.IsSuccessStatusCode || (allowNotFound && response.StatusCode == HttpStatusCode.NotFound))
                {
                    return response;
                }

                var retry = response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;
                if (!retry || attempt == Backoff.Length)
                {
                    var detail = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                    throw new HttpRequestException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {detail}", null, response.StatusCode);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException { StatusCode: null } or TaskCanceledException && attempt < Backoff.Length)
            {
            }
            finally
            {
                if (response is not null && !response.IsSuccessStatusCode && !(allowNotFound && response.StatusCode == HttpStatusCode.NotFound))
                {
                    response.Dispose();
                }
            }

            await Task.Delay(Backoff[attempt], _time).ConfigureAwait(false);
        }
    }

    private void Failed(string call, Exception ex)
    {
        Count();
        if (_loggedFailures.Add(call))
        {
            LogCallFailed(_logger, call, _spec.TrackingUri, _tunerExperiment, ex.Message);
        }
    }

    private void Count()
    {
        TunerTelemetry.SinkFailures.Add(1, new KeyValuePair<string, object?>("sink", Name), new KeyValuePair<string, object?>("experiment", _tunerExperiment));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "MLflow ({TrackingUri}): {Call} for experiment {ExperimentId} failed and was dropped: {Error} (further failures of this call are only counted)")]
    private static partial void LogCallFailed(ILogger logger, string call, string trackingUri, string experimentId, string error);

    private abstract record Op
    {
        public sealed record Start(string ExperimentId, string Name, string MlflowExperiment, string RunDirectory, DateTimeOffset At, bool Resumed) : Op;

        public sealed record Trial(string TrialId, TrialConfig Config, DateTimeOffset At) : Op;

        public sealed record Metrics(string TrialId, TrialResult Result) : Op;

        public sealed record End(string? TrialId, string Status, DateTimeOffset At) : Op;

        public sealed record Drained(TaskCompletionSource Done) : Op;

        public sealed record Front(IReadOnlyList<string> TrialIds) : Op;
    }
}
