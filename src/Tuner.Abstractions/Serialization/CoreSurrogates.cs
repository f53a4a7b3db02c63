using Tuner.Core.Experiments;
using Tuner.Core.Results;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Abstractions.Serialization;

// Tuner.Core has no Orleans dependency, so its types travel through surrogates (Orleans' way of
// serializing foreign types). Specs travel in their public JSON format, which is versioned anyway.

[GenerateSerializer, Immutable, Alias("Tuner.ParamValue")]
public struct ParamValueSurrogate
{
    [Id(0)] public ParamKind Kind;
    [Id(1)] public double Number;
    [Id(2)] public string? Text;
}

[RegisterConverter]
public sealed class ParamValueConverter : IConverter<ParamValue, ParamValueSurrogate>
{
    public ParamValue ConvertFromSurrogate(in ParamValueSurrogate surrogate) => surrogate.Kind switch
    {
        ParamKind.Float => ParamValue.Float(surrogate.Number),
        ParamKind.Integer => ParamValue.Integer((long)surrogate.Number),
        ParamKind.Boolean => ParamValue.Boolean(surrogate.Number != 0),
        _ => ParamValue.String(surrogate.Text ?? string.Empty),
    };

    public ParamValueSurrogate ConvertToSurrogate(in ParamValue value) => value.Kind switch
    {
        ParamKind.String => new() { Kind = value.Kind, Text = value.AsString() },
        _ => new() { Kind = value.Kind, Number = value.AsDouble() },
    };
}

[GenerateSerializer, Alias("Tuner.ParamKind")]
public enum ParamKindSurrogate
{
    Float,
    Integer,
    String,
    Boolean,
}

[RegisterConverter]
public sealed class ParamKindConverter : IConverter<ParamKind, ParamKindSurrogate>
{
    public ParamKind ConvertFromSurrogate(in ParamKindSurrogate surrogate) => (ParamKind)(int)surrogate;

    public ParamKindSurrogate ConvertToSurrogate(in ParamKind value) => (ParamKindSurrogate)(int)value;
}

[GenerateSerializer, Immutable, Alias("Tuner.TrialConfig")]
public struct TrialConfigSurrogate
{
    [Id(0)] public string[] Keys;
    [Id(1)] public ParamValue[] Values;
}

[RegisterConverter]
public sealed class TrialConfigConverter : IConverter<TrialConfig, TrialConfigSurrogate>
{
    public TrialConfig ConvertFromSurrogate(in TrialConfigSurrogate surrogate)
    {
        var keys = surrogate.Keys;
        var values = surrogate.Values;
        return new TrialConfig(keys.Select((k, i) => new KeyValuePair<string, ParamValue>(k, values[i])));
    }

    public TrialConfigSurrogate ConvertToSurrogate(in TrialConfig value) =>
        new() { Keys = [.. value.Keys], Values = [.. value.Values] };
}

[GenerateSerializer, Immutable, Alias("Tuner.TrialResult")]
public struct TrialResultSurrogate
{
    [Id(0)] public long TrainingIteration;
    [Id(1)] public double TimeTotalS;
    [Id(2)] public double Timestamp;
    [Id(3)] public Dictionary<string, double> Metrics;
    [Id(4)] public long IterationsSinceRestore;
}

[RegisterConverter]
public sealed class TrialResultConverter : IConverter<TrialResult, TrialResultSurrogate>
{
    public TrialResult ConvertFromSurrogate(in TrialResultSurrogate surrogate) =>
        new(surrogate.TrainingIteration, surrogate.TimeTotalS, surrogate.Timestamp, surrogate.Metrics, surrogate.IterationsSinceRestore);

    public TrialResultSurrogate ConvertToSurrogate(in TrialResult value) => new()
    {
        TrainingIteration = value.TrainingIteration,
        TimeTotalS = value.TimeTotalS,
        Timestamp = value.Timestamp,
        Metrics = value.Metrics as Dictionary<string, double> ?? new Dictionary<string, double>(value.Metrics),
        IterationsSinceRestore = value.IterationsSinceRestore,
    };
}

[GenerateSerializer, Immutable, Alias("Tuner.ExperimentSpec")]
public struct ExperimentSpecSurrogate
{
    [Id(0)] public string Json;
}

[RegisterConverter]
public sealed class ExperimentSpecConverter : IConverter<ExperimentSpec, ExperimentSpecSurrogate>
{
    public ExperimentSpec ConvertFromSurrogate(in ExperimentSpecSurrogate surrogate) => SpecParser.ParseStructure(surrogate.Json);

    public ExperimentSpecSurrogate ConvertToSurrogate(in ExperimentSpec value) => new() { Json = SpecWriter.ToJson(value) };
}

[GenerateSerializer, Immutable, Alias("Tuner.BestTrial")]
public struct BestTrialSurrogate
{
    [Id(0)] public string TrialId;
    [Id(1)] public TrialConfig Config;
    [Id(2)] public TrialResult LastResult;
}

[RegisterConverter]
public sealed class BestTrialConverter : IConverter<BestTrial, BestTrialSurrogate>
{
    public BestTrial ConvertFromSurrogate(in BestTrialSurrogate surrogate) => new(surrogate.TrialId, surrogate.Config, surrogate.LastResult);

    public BestTrialSurrogate ConvertToSurrogate(in BestTrial value) => new() { TrialId = value.TrialId, Config = value.Config, LastResult = value.LastResult };
}

[GenerateSerializer, Alias("Tuner.TrialStatus")]
public enum TrialStatusSurrogate
{
    Pending,
    Running,
    Paused,
    Terminated,
    Error,
}

[RegisterConverter]
public sealed class TrialStatusConverter : IConverter<TrialStatus, TrialStatusSurrogate>
{
    public TrialStatus ConvertFromSurrogate(in TrialStatusSurrogate surrogate) => (TrialStatus)(int)surrogate;

    public TrialStatusSurrogate ConvertToSurrogate(in TrialStatus value) => (TrialStatusSurrogate)(int)value;
}

[GenerateSerializer, Alias("Tuner.ExperimentStatus")]
public enum ExperimentStatusSurrogate
{
    Running,
    Completed,
    Stopped,
    Failed,
}

[RegisterConverter]
public sealed class ExperimentStatusConverter : IConverter<ExperimentStatus, ExperimentStatusSurrogate>
{
    public ExperimentStatus ConvertFromSurrogate(in ExperimentStatusSurrogate surrogate) => (ExperimentStatus)(int)surrogate;

    public ExperimentStatusSurrogate ConvertToSurrogate(in ExperimentStatus value) => (ExperimentStatusSurrogate)(int)value;
}

[GenerateSerializer, Alias("Tuner.OptimizationMode")]
public enum OptimizationModeSurrogate
{
    Min,
    Max,
}

[RegisterConverter]
public sealed class OptimizationModeConverter : IConverter<OptimizationMode, OptimizationModeSurrogate>
{
    public OptimizationMode ConvertFromSurrogate(in OptimizationModeSurrogate surrogate) => (OptimizationMode)(int)surrogate;

    public OptimizationModeSurrogate ConvertToSurrogate(in OptimizationMode value) => (OptimizationModeSurrogate)(int)value;
}

// Results, configs and bests are immutable once made, so local calls pass them without copying.

[RegisterCopier]
public sealed class TrialResultCopier : Orleans.Serialization.Cloning.ShallowCopier<TrialResult>;

[RegisterCopier]
public sealed class TrialConfigCopier : Orleans.Serialization.Cloning.ShallowCopier<TrialConfig>;

[RegisterCopier]
public sealed class BestTrialCopier : Orleans.Serialization.Cloning.ShallowCopier<BestTrial>;

[GenerateSerializer, Immutable, Alias("Tuner.CustomTrainableSpec")]
public struct CustomTrainableSpecSurrogate
{
    [Id(0)] public string? Assembly;
    [Id(1)] public string? Type;
    [Id(2)] public string[]? Command;
    [Id(3)] public string? WorkingDir;
    [Id(4)] public string[] EnvNames;
    [Id(5)] public string[] EnvValues;
}

[RegisterConverter]
public sealed class CustomTrainableSpecConverter : IConverter<CustomTrainableSpec, CustomTrainableSpecSurrogate>
{
    public CustomTrainableSpec ConvertFromSurrogate(in CustomTrainableSpecSurrogate surrogate) => new()
    {
        Assembly = surrogate.Assembly,
        Type = surrogate.Type,
        Command = surrogate.Command,
        WorkingDir = surrogate.WorkingDir,
        Env = (surrogate.EnvNames ?? []).Zip(surrogate.EnvValues ?? []).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal),
    };

    public CustomTrainableSpecSurrogate ConvertToSurrogate(in CustomTrainableSpec value) => new()
    {
        Assembly = value.Assembly,
        Type = value.Type,
        Command = value.Command?.ToArray(),
        WorkingDir = value.WorkingDir,
        EnvNames = [.. value.Env.Keys],
        EnvValues = [.. value.Env.Values],
    };
}

[GenerateSerializer, Alias("Tuner.ExperimentEventKind")]
public enum ExperimentEventKindSurrogate
{
    ExperimentStatus,
    TrialCreated,
    TrialStatus,
    Result,
    Decision,
    ConfigChanged,
}

[RegisterConverter]
public sealed class ExperimentEventKindConverter : IConverter<ExperimentEventKind, ExperimentEventKindSurrogate>
{
    public ExperimentEventKind ConvertFromSurrogate(in ExperimentEventKindSurrogate surrogate) => (ExperimentEventKind)(int)surrogate;

    public ExperimentEventKindSurrogate ConvertToSurrogate(in ExperimentEventKind value) => (ExperimentEventKindSurrogate)(int)value;
}

[GenerateSerializer, Immutable, Alias("Tuner.ExperimentEvent")]
public struct ExperimentEventSurrogate
{
    [Id(0)] public long Position;
    [Id(1)] public DateTimeOffset Time;
    [Id(2)] public ExperimentEventKind Kind;
    [Id(3)] public string? TrialId;
    [Id(4)] public TrialStatus? TrialStatus;
    [Id(5)] public TrialResult? Result;
    [Id(6)] public TrialConfig? Config;
    [Id(7)] public string? Action;
    [Id(8)] public string? Message;
    [Id(9)] public ExperimentStatus? ExperimentStatus;
}

[RegisterConverter]
public sealed class ExperimentEventConverter : IConverter<ExperimentEvent, ExperimentEventSurrogate>
{
    public ExperimentEvent ConvertFromSurrogate(in ExperimentEventSurrogate s) =>
        new(s.Position, s.Time, s.Kind, s.TrialId, s.TrialStatus, s.Result, s.Config, s.Action, s.Message, s.ExperimentStatus);

    public ExperimentEventSurrogate ConvertToSurrogate(in ExperimentEvent e) => new()
    {
        Position = e.Position,
        Time = e.Time,
        Kind = e.Kind,
        TrialId = e.TrialId,
        TrialStatus = e.TrialStatus,
        Result = e.Result,
        Config = e.Config,
        Action = e.Action,
        Message = e.Message,
        ExperimentStatus = e.ExperimentStatus,
    };
}

[RegisterCopier]
public sealed class ExperimentEventCopier : Orleans.Serialization.Cloning.ShallowCopier<ExperimentEvent>;
