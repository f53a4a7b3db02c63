using Tuner.Core.Experiments;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Search;
using Tuner.Core.Spec;
using Tuner.Core.Trainables;
using V1 = Tuner.Api.V1;
using static Tuner.Api.ApiMapping;

namespace Tuner.Scheduler.Api;

/// <summary>
/// tuner.v1.Tuner over the cluster's grains. Every request is checked before a grain is touched:
/// unknown experiments are NOT_FOUND without activating anything, specs are parsed and validated
/// (INVALID_ARGUMENT with one field violation per problem), limits are applied, and custom
/// trainables need an admin key.
/// </summary>
public sealed partial class TunerService(IGrainFactory grains, TunerApiOptions options, TrainableRegistry registry, TimeProvider time, ILogger<TunerService> logger) : V1.Tuner.TunerBase
{
    private static readonly Regex ExperimentIdPattern = new("^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$");
    private static readonly Regex CodeFileName = new("^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$");

    private IExperimentRegistryGrain Registry => grains.GetGrain<IExperimentRegistryGrain>(IExperimentRegistryGrain.ClusterKey);

    public override Task<V1.Experiment> SubmitExperiment(V1.SubmitExperimentRequest request, ServerCallContext context) => Guard(async () =>
    {
        var bytes = Encoding.UTF8.GetByteCount(request.Spec);
        if (bytes > options.MaxSpecBytes)
        {
            throw Invalid(("spec", $"is {bytes:N0} bytes; the limit is {options.MaxSpecBytes:N0}"));
        }

        var spec = SpecParser.Parse(request.Spec, registry);
        var trials = VariantGenerator.CountTrials(spec);
        if (trials > options.MaxTrialsPerExperiment)
        {
            throw Invalid(("samples", $"the spec makes {trials:N0} trials; this service allows at most {options.MaxTrialsPerExperiment:N0} per experiment"));
        }

        if ((spec.Custom is not null || request.Code.Count > 0) && ApiKeyInterceptor.RoleOf(context) != ApiRole.Admin)
        {
            throw new RpcException(new Grpc.Core.Status(StatusCode.PermissionDenied, "uploading code or running a custom trainable (trainable: {assembly|command}) needs an admin key"));
        }

        var id = string.IsNullOrEmpty(request.ExperimentId)
            ? $"{spec.Name}-{time.GetUtcNow():yyyyMMdd'T'HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}"
            : request.ExperimentId;
        if (!ExperimentIdPattern.IsMatch(id) || id.Contains("..", StringComparison.Ordinal))
        {
            throw Invalid(("experiment_id", $"'{id}' is not allowed; use up to 200 letters, digits, '.', '-' or '_', starting with a letter or digit, without '..'"));
        }

        if (request.Code.Count > 0)
        {
            spec = spec with { Custom = SaveCode(id, request.Code, spec.Custom) };
        }

        var outputRoot = Path.GetFullPath(options.OutputRoot);
        var snapshot = await grains.GetGrain<IExperimentGrain>(id).StartAsync(new ExperimentSubmission(spec, outputRoot));
        LogSubmitted(logger, id, spec.Name, spec.Custom is null ? spec.Trainable : $"custom {spec.Trainable}");
        return ToProto(snapshot, spec);
    });

    public override Task<V1.Experiment> GetExperiment(V1.GetExperimentRequest request, ServerCallContext context) => Guard(async () =>
    {
        var experiment = await ExistingAsync(request.ExperimentId);
        return ToProto(await experiment.GetSnapshotAsync(request.MaxTrials <= 0 ? 20 : request.MaxTrials), await experiment.GetSpecAsync());
    });

    public override Task<V1.ListExperimentsResponse> ListExperiments(V1.ListExperimentsRequest request, ServerCallContext context) => Guard(async () =>
    {
        var response = new V1.ListExperimentsResponse();
        foreach (var listing in await Registry.ListAsync())
        {
            response.Experiments.Add(ToProto(await grains.GetGrain<IExperimentGrain>(listing.ExperimentId).GetSnapshotAsync(0), null));
        }

        return response;
    });

    public override async Task WatchExperiment(V1.WatchExperimentRequest request, IServerStreamWriter<V1.ExperimentEvent> responseStream, ServerCallContext context)
    {
        var experiment = await Guard(() => ExistingAsync(request.ExperimentId));
        await Guard(async () =>
        {
            await foreach (var e in experiment.ReadAllAsync(Math.Max(0, request.AfterPosition), TimeSpan.FromSeconds(10), context.CancellationToken))
            {
                await responseStream.WriteAsync(ToProto(e), context.CancellationToken);
            }

            return true;
        });
    }

    public override Task<V1.Experiment> StopExperiment(V1.StopExperimentRequest request, ServerCallContext context) => Guard(async () =>
    {
        var experiment = await ExistingAsync(request.ExperimentId);
        await experiment.StopAsync(string.IsNullOrWhiteSpace(request.Reason) ? "stopped by the user" : Truncate(request.Reason));
        return ToProto(await experiment.GetSnapshotAsync(20), await experiment.GetSpecAsync());
    });

    public override Task<V1.Experiment> ResumeExperiment(V1.ResumeExperimentRequest request, ServerCallContext context) => Guard(async () =>
    {
        var experiment = await ExistingAsync(request.ExperimentId);
        return ToProto(await experiment.ResumeAsync(), await experiment.GetSpecAsync());
    });

    public override Task<V1.Experiment> ExtendExperiment(V1.ExtendExperimentRequest request, ServerCallContext context) => Guard(async () =>
    {
        var experiment = await ExistingAsync(request.ExperimentId);
        await experiment.ExtendAsync(request.Samples);

        // The next call finds the grain restored from its journal, running again.
        return ToProto(await experiment.GetSnapshotAsync(20), await experiment.GetSpecAsync());
    });

    public override Task<V1.ListTrialsResponse> ListTrials(V1.ListTrialsRequest request, ServerCallContext context) => Guard(async () =>
    {
        var experiment = await ExistingAsync(request.ExperimentId);
        var snapshot = await experiment.GetSnapshotAsync(int.MaxValue);
        var response = new V1.ListTrialsResponse();
        response.Trials.AddRange(snapshot.Rows.OrderBy(r => r.TrialId, StringComparer.Ordinal).Select(ToProto));
        return response;
    });

    public override Task<V1.Trial> GetTrial(V1.GetTrialRequest request, ServerCallContext context) => Guard(async () =>
    {
        var experiment = await ExistingAsync(request.ExperimentId);
        var spec = await experiment.GetSpecAsync();
        return ToProto(await experiment.GetTrialAsync(request.TrialId), spec!.Metric);
    });

    public override Task<V1.Trial> StopTrial(V1.StopTrialRequest request, ServerCallContext context) => Guard(async () =>
    {
        var experiment = await ExistingAsync(request.ExperimentId);
        await experiment.StopTrialAsync(request.TrialId, string.IsNullOrWhiteSpace(request.Reason) ? "stopped by the user" : Truncate(request.Reason));
        var spec = await experiment.GetSpecAsync();
        return ToProto(await experiment.GetTrialAsync(request.TrialId), spec!.Metric);
    });

    /// <summary>The experiment's grain, only for an id the registry knows: an unknown id activates nothing.</summary>
    private async Task<IExperimentGrain> ExistingAsync(string experimentId)
    {
        if (string.IsNullOrEmpty(experimentId))
        {
            throw Invalid(("experiment_id", "is required"));
        }

        if (!ExperimentIdPattern.IsMatch(experimentId) || !await Registry.ContainsAsync(experimentId))
        {
            throw new RpcException(new Grpc.Core.Status(StatusCode.NotFound, $"no experiment '{Truncate(experimentId)}'"));
        }

        return grains.GetGrain<IExperimentGrain>(experimentId);
    }

    /// <summary>Writes the uploaded files under <c>OutputRoot/.code/ID/</c>; the spec's assembly must be one of them.</summary>
    private CustomTrainableSpec SaveCode(string experimentId, IEnumerable<V1.CodeFile> files, CustomTrainableSpec? custom)
    {
        if (custom is not { IsCommand: false, Assembly: { } assembly })
        {
            throw Invalid(("code", "uploaded code needs an assembly trainable: trainable: { assembly: NAME.dll, type: NAMESPACE.TYPE }"));
        }

        var violations = new List<(string, string)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var list = files.ToList();
        foreach (var (file, i) in list.Select((f, i) => (f, i)))
        {
            if (!CodeFileName.IsMatch(file.Name) || file.Name.Contains("..", StringComparison.Ordinal))
            {
                violations.Add(($"code[{i}].name", $"'{Truncate(file.Name)}' is not a plain file name (letters, digits, '.', '-', '_', '+'; no folders, no '..')"));
            }
            else if (!names.Add(file.Name))
            {
                violations.Add(($"code[{i}].name", $"'{file.Name}' is uploaded twice"));
            }
        }

        var wanted = Path.GetFileName(assembly);
        if (!names.Contains(wanted))
        {
            violations.Add(("trainable.assembly", $"'{wanted}' is not among the uploaded files ({string.Join(", ", names)})"));
        }

        if (violations.Count > 0)
        {
            throw Invalid([.. violations]);
        }

        var folder = Path.Combine(Path.GetFullPath(options.OutputRoot), ".code", experimentId);
        Directory.CreateDirectory(folder);
        foreach (var file in list)
        {
            File.WriteAllBytes(Path.Combine(folder, file.Name), file.Content.ToByteArray());
        }

        return custom with { Assembly = Path.Combine(folder, wanted) };
    }

    /// <summary>Runs a call, turning the cluster's refusals into gRPC statuses; anything unexpected is INTERNAL and logged.</summary>
    private async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException)
        {
            throw;
        }
        catch (SpecException ex)
        {
            throw Invalid([.. ex.Errors.Select(e => (e.Path, e.Line is { } line ? $"{e.Message} (line {line})" : e.Message))]);
        }
        catch (ExperimentRejectedException ex)
        {
            throw Invalid([.. ex.Paths.Zip(ex.Messages)]);
        }
        catch (TunerRequestException ex)
        {
            var code = ex.Failure switch
            {
                RequestFailure.NotFound => StatusCode.NotFound,
                RequestFailure.AlreadyExists => StatusCode.AlreadyExists,
                RequestFailure.OutOfRange => StatusCode.OutOfRange,
                _ => StatusCode.FailedPrecondition,
            };
            throw new RpcException(new Grpc.Core.Status(code, ex.Message));
        }
        catch (IOException ex)
        {
            LogFailed(logger, ex);
            throw new RpcException(new Grpc.Core.Status(StatusCode.Unavailable, $"the results folder could not be written: {ex.Message}"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(logger, ex);
            throw new RpcException(new Grpc.Core.Status(StatusCode.Internal, $"the request failed: {ex.GetType().Name}"));
        }
    }

    /// <summary>INVALID_ARGUMENT with a google.rpc.BadRequest holding one field violation per problem.</summary>
    private static RpcException Invalid(params (string Field, string Description)[] violations)
    {
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(violations.Select(v => new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description }));
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = string.Join("; ", violations.Take(5).Select(v => $"{v.Field}: {v.Description}")) + (violations.Length > 5 ? $"; and {violations.Length - 5} more" : string.Empty),
            Details = { Any.Pack(badRequest) },
        };
        return status.ToRpcException();
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "...";

    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {ExperimentId} ({Name}) submitted through the API, trainable {Trainable}")]
    private static partial void LogSubmitted(ILogger logger, string experimentId, string name, string trainable);

    [LoggerMessage(Level = LogLevel.Error, Message = "An API request failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
