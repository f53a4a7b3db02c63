using Tuner.Core.Experiments;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using Tuner.Abstractions.Messages;
using Tuner.Core.Spec;
using static Tuner.Api.ApiMapping;
using V1 = Tuner.Api.V1;

namespace Tuner.Client;

/// <summary>
/// A client of a Scheduler.Silo's tuner.v1 API over gRPC. Calls are retried while the service is
/// unavailable; submissions carry an id made here, so a retried one starts one experiment; a
/// watch reconnects from the last event it delivered.
/// </summary>
public sealed class TunerClient : ITunerClient, IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly V1.Tuner.TunerClient _grpc;
    private readonly TunerClientOptions _options;
    private readonly TimeProvider _time;

    public TunerClient(TunerClientOptions options, TimeProvider? time = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        var retry = new MethodConfig
        {
            Names = { MethodName.Default },
            RetryPolicy = new RetryPolicy
            {
                MaxAttempts = Math.Max(2, options.MaxAttempts),
                InitialBackoff = TimeSpan.FromSeconds(0.5),
                MaxBackoff = TimeSpan.FromSeconds(5),
                BackoffMultiplier = 2,
                RetryableStatusCodes = { StatusCode.Unavailable },
            },
        };
        _channel = GrpcChannel.ForAddress(options.Address, new GrpcChannelOptions
        {
            HttpHandler = options.HttpHandler,
            DisposeHttpClient = options.HttpHandler is null,
            ServiceConfig = new ServiceConfig { MethodConfigs = { retry } },
            MaxReceiveMessageSize = 64 * 1024 * 1024,
            MaxRetryAttempts = Math.Max(2, options.MaxAttempts),
        });
        var invoker = options.ApiKey is { Length: > 0 } key
            ? _channel.Intercept(metadata =>
            {
                metadata.Add("authorization", $"Bearer {key}");
                return metadata;
            })
            : _channel.CreateCallInvoker();
        _grpc = new V1.Tuner.TunerClient(invoker);
    }

    /// <summary>Connects to <paramref name="address"/>, with <paramref name="apiKey"/> when the service requires one.</summary>
    public TunerClient(Uri address, string? apiKey = null)
        : this(new TunerClientOptions { Address = address, ApiKey = apiKey })
    {
    }

    public async Task<ExperimentSnapshot> SubmitAsync(ExperimentSpec spec, SubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SubmitOptions();
        var request = new V1.SubmitExperimentRequest
        {
            ExperimentId = options.ExperimentId ?? ExperimentIds.New(spec.Name, _time),
        };
        if (options.UploadCode && spec.Custom is { IsCommand: false, Assembly: { } assembly } custom && File.Exists(assembly))
        {
            request.Code.AddRange(CodeFiles(assembly));
            spec = spec with { Custom = custom with { Assembly = Path.GetFileName(assembly) } };
        }

        request.Spec = SpecWriter.ToJson(spec);
        return ToDomain(await CallAsync(() => _grpc.SubmitExperimentAsync(request, cancellationToken: cancellationToken).ResponseAsync));
    }

    public async Task<ExperimentSnapshot> GetAsync(string experimentId, int maxTrials = 20, CancellationToken cancellationToken = default) =>
        ToDomain(await CallAsync(() => _grpc.GetExperimentAsync(new V1.GetExperimentRequest { ExperimentId = experimentId, MaxTrials = maxTrials }, cancellationToken: cancellationToken).ResponseAsync));

    public async Task<IReadOnlyList<ExperimentSnapshot>> ListAsync(CancellationToken cancellationToken = default) =>
        [.. (await CallAsync(() => _grpc.ListExperimentsAsync(new V1.ListExperimentsRequest(), cancellationToken: cancellationToken).ResponseAsync)).Experiments.Select(ToDomain)];

    public async IAsyncEnumerable<ExperimentEvent> WatchAsync(string experimentId, long afterPosition = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var position = afterPosition;
        var brokenSince = (long?)null;
        var attempt = 0;
        while (true)
        {
            using var call = _grpc.WatchExperiment(new V1.WatchExperimentRequest { ExperimentId = experimentId, AfterPosition = position }, cancellationToken: cancellationToken);
            var stream = call.ResponseStream;
            while (true)
            {
                bool moved;
                try
                {
                    moved = await stream.MoveNext(cancellationToken);
                }
                catch (RpcException ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
                {
                    brokenSince ??= _time.GetTimestamp();
                    if (_time.GetElapsedTime(brokenSince.Value) > _options.ReconnectFor)
                    {
                        throw new TunerUnavailableException($"the watch of {experimentId} broke and could not reconnect for {_options.ReconnectFor.TotalSeconds:0} s: {ex.Status.Detail}", ex);
                    }

                    break;
                }
                catch (RpcException ex)
                {
                    throw Translate(ex);
                }

                if (!moved)
                {
                    yield break;
                }

                brokenSince = null;
                attempt = 0;
                var e = ToDomain(stream.Current);
                position = e.Position;
                yield return e;
            }

            // Reconnect from the last event delivered: nothing is missed and nothing repeats.
            attempt++;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(attempt, 6)))), _time, cancellationToken);
        }
    }

    public async Task<ExperimentSnapshot> StopAsync(string experimentId, string? reason = null, CancellationToken cancellationToken = default) =>
        ToDomain(await CallAsync(() => _grpc.StopExperimentAsync(new V1.StopExperimentRequest { ExperimentId = experimentId, Reason = reason ?? string.Empty }, cancellationToken: cancellationToken).ResponseAsync));

    public async Task<ExperimentSnapshot> ResumeAsync(string experimentId, CancellationToken cancellationToken = default) =>
        ToDomain(await CallAsync(() => _grpc.ResumeExperimentAsync(new V1.ResumeExperimentRequest { ExperimentId = experimentId }, cancellationToken: cancellationToken).ResponseAsync));

    public async Task<ExperimentSnapshot> ExtendAsync(string experimentId, int samples, CancellationToken cancellationToken = default) =>
        ToDomain(await CallAsync(() => _grpc.ExtendExperimentAsync(new V1.ExtendExperimentRequest { ExperimentId = experimentId, Samples = samples }, cancellationToken: cancellationToken).ResponseAsync));

    public async Task<IReadOnlyList<TrialRow>> ListTrialsAsync(string experimentId, CancellationToken cancellationToken = default) =>
        [.. (await CallAsync(() => _grpc.ListTrialsAsync(new V1.ListTrialsRequest { ExperimentId = experimentId }, cancellationToken: cancellationToken).ResponseAsync)).Trials.Select(ToRow)];

    public async Task<TrialInfo> GetTrialAsync(string experimentId, string trialId, CancellationToken cancellationToken = default) =>
        ToInfo(await CallAsync(() => _grpc.GetTrialAsync(new V1.GetTrialRequest { ExperimentId = experimentId, TrialId = trialId }, cancellationToken: cancellationToken).ResponseAsync), experimentId);

    public async Task<TrialInfo> StopTrialAsync(string experimentId, string trialId, string? reason = null, CancellationToken cancellationToken = default) =>
        ToInfo(await CallAsync(() => _grpc.StopTrialAsync(new V1.StopTrialRequest { ExperimentId = experimentId, TrialId = trialId, Reason = reason ?? string.Empty }, cancellationToken: cancellationToken).ResponseAsync), experimentId);

    public void Dispose() => _channel.Dispose();

    /// <summary>The assembly and what lies beside it (its dependencies and .deps.json), except Tuner's own assemblies, which the workers have.</summary>
    private static IEnumerable<V1.CodeFile> CodeFiles(string assembly)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(assembly))!;
        return Directory.EnumerateFiles(folder)
            .Where(f => f.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".deps.json", StringComparison.OrdinalIgnoreCase))
            .Where(f => !Path.GetFileName(f).StartsWith("Tuner.", StringComparison.Ordinal) || Path.GetFileName(f) == Path.GetFileName(assembly))
            .Order(StringComparer.Ordinal)
            .Select(f => new V1.CodeFile { Name = Path.GetFileName(f), Content = ByteString.CopyFrom(File.ReadAllBytes(f)) });
    }

    private static bool IsTransient(RpcException ex) =>
        ex.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Aborted or StatusCode.Cancelled;

    /// <summary>
    /// One unary call. The channel retries UNAVAILABLE (nothing listening); a call sent on a pooled
    /// connection the server was closing (it answers nothing: INTERNAL, with the HTTP error) never
    /// reached the service and is sent again on a new one, as often as the options allow.
    /// </summary>
    private async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (RpcException ex) when (NeverStarted(ex) && attempt < _options.MaxAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), _time).ConfigureAwait(false);
            }
            catch (RpcException ex)
            {
                throw Translate(ex);
            }
        }
    }

    private static bool NeverStarted(RpcException ex) =>
        ex.StatusCode == StatusCode.Internal && ex.Status.DebugException is HttpRequestException;

    /// <summary>The service's refusals as the exceptions the in-process client throws; anything else stays an <see cref="RpcException"/>.</summary>
    private static Exception Translate(RpcException ex)
    {
        switch (ex.StatusCode)
        {
            case StatusCode.InvalidArgument:
                var badRequest = ex.GetRpcStatus()?.GetDetail<Google.Rpc.BadRequest>();
                return badRequest is { FieldViolations.Count: > 0 }
                    ? new SpecException([.. badRequest.FieldViolations.Select(v => new SpecError(v.Field, v.Description))])
                    : new SpecException("(request)", ex.Status.Detail);
            case StatusCode.NotFound:
                return new TunerRequestException(RequestFailure.NotFound, ex.Status.Detail);
            case StatusCode.FailedPrecondition:
                return new TunerRequestException(RequestFailure.FailedPrecondition, ex.Status.Detail);
            case StatusCode.AlreadyExists:
                return new TunerRequestException(RequestFailure.AlreadyExists, ex.Status.Detail);
            case StatusCode.OutOfRange:
                return new TunerRequestException(RequestFailure.OutOfRange, ex.Status.Detail);
            case StatusCode.Unavailable:
                return new TunerUnavailableException($"the Tuner service is unavailable: {ex.Status.Detail}", ex);
            default:
                return ex;
        }
    }
}

/// <summary>The service could not be reached, after the retries.</summary>
public sealed class TunerUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>Experiment ids: the spec's name, the UTC start time and a random suffix.</summary>
public static class ExperimentIds
{
    public static string New(string name, TimeProvider time) =>
        $"{name}-{time.GetUtcNow():yyyyMMdd'T'HHmmss}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
}
