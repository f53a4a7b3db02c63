using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Results;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using V1 = Tuner.Api.V1;

namespace Tuner.Api;

/// <summary>Between the cluster's records and tuner.v1's messages, both ways: the server writes them, the client reads them back.</summary>
public static class ApiMapping
{
    public static V1.Experiment ToProto(ExperimentSnapshot s, ExperimentSpec? spec)
    {
        var proto = new V1.Experiment
        {
            ExperimentId = s.ExperimentId,
            Name = s.Name,
            Status = s.Status.ToWire(),
            StatusReason = s.StatusReason ?? string.Empty,
            OutputDirectory = s.OutputDirectory ?? string.Empty,
            Metric = s.Metric,
            Mode = s.Mode == OptimizationMode.Min ? "min" : "max",
            TotalTrials = s.TotalTrials,
            ResultsReported = s.ResultsReported,
            ElapsedS = s.ElapsedS,
            IsSpecError = s.IsSpecError,
            Spec = spec is null ? string.Empty : SpecWriter.ToJson(spec.Redacted()),
        };
        foreach (var (status, count) in s.StateCounts)
        {
            proto.TrialCounts[status.ToWire()] = count;
        }

        proto.Trials.AddRange(s.Rows.Select(ToProto));
        if (s.Best is { } best)
        {
            proto.Best = ToProto(best);
        }

        proto.ParetoFront.AddRange((s.ParetoFront ?? []).Select(ToProto));
        proto.InfeasibleTrials = s.InfeasibleTrials;
        proto.Metrics.AddRange(s.Metrics ?? []);
        if (spec is { IsMultiObjective: true })
        {
            proto.Modes.AddRange(spec.Objectives.Select(o => o.Mode == OptimizationMode.Min ? "min" : "max"));
        }

        return proto;
    }

    public static ExperimentSnapshot ToDomain(V1.Experiment p) => new(
        p.ExperimentId,
        p.Name,
        ParseExperimentStatus(p.Status),
        Empty(p.StatusReason),
        Empty(p.OutputDirectory),
        p.Metric,
        p.Mode == "max" ? OptimizationMode.Max : OptimizationMode.Min,
        p.TotalTrials,
        p.TrialCounts.ToDictionary(c => ParseTrialStatus(c.Key), c => c.Value),
        p.Trials.Select(ToRow).ToList(),
        p.Best is { } best ? ToDomain(best) : null,
        p.ResultsReported,
        p.ElapsedS,
        p.IsSpecError,
        p.ParetoFront.Count > 0 || p.Metrics.Count > 1 ? [.. p.ParetoFront.Select(ToDomain)] : null,
        p.InfeasibleTrials,
        p.Metrics.Count > 0 ? [.. p.Metrics] : null);

    private static V1.BestTrial ToProto(BestTrial trial)
    {
        var proto = new V1.BestTrial { TrialId = trial.TrialId, LastResult = ToProto(trial.LastResult) };
        Fill(proto.Config, trial.Config);
        return proto;
    }

    private static BestTrial ToDomain(V1.BestTrial p) => new(p.TrialId, ToDomain(p.Config), ToDomain(p.LastResult));

    public static V1.Trial ToProto(TrialRow row)
    {
        var proto = new V1.Trial
        {
            TrialId = row.TrialId,
            Status = row.Status.ToWire(),
            Iteration = row.Iteration,
            Failures = row.Failures,
            StatusReason = row.StatusReason ?? string.Empty,
            Diagnosis = row.Diagnosis ?? string.Empty,
        };
        if (row.Metric is { } metric)
        {
            proto.Metric = metric;
        }

        Fill(proto.Config, row.Config);
        proto.Decisions.AddRange(row.Decisions ?? []);
        return proto;
    }

    public static V1.Trial ToProto(TrialInfo info, string metric)
    {
        var proto = new V1.Trial
        {
            TrialId = info.TrialId,
            Status = info.Status.ToWire(),
            Iteration = info.LastIteration,
            Failures = info.Failures,
            StatusReason = info.StatusReason ?? string.Empty,
            WorkerId = info.WorkerId ?? string.Empty,
            Checkpoint = info.Checkpoint?.Path ?? string.Empty,
        };
        if (info.LastResult is { } last)
        {
            proto.LastResult = ToProto(last);
            if (last.GetMetric(metric) is { } value)
            {
                proto.Metric = value;
            }
        }

        Fill(proto.Config, info.Config);
        return proto;
    }

    public static TrialRow ToRow(V1.Trial p) => new(
        p.TrialId,
        ParseTrialStatus(p.Status),
        ToDomain(p.Config),
        p.Iteration,
        p.HasMetric ? p.Metric : null,
        p.Failures,
        Empty(p.StatusReason),
        Empty(p.Diagnosis),
        p.Decisions.Count == 0 ? null : [.. p.Decisions]);

    public static TrialInfo ToInfo(V1.Trial p, string experimentId) => new(
        experimentId,
        p.TrialId,
        ParseTrialStatus(p.Status),
        ToDomain(p.Config),
        p.Iteration,
        p.LastResult is { } r ? ToDomain(r) : null,
        Empty(p.Checkpoint) is { } path ? new CheckpointRef(path, p.LastResult?.TrainingIteration ?? p.Iteration, 0) : null,
        p.Failures,
        Empty(p.WorkerId),
        Empty(p.StatusReason));

    public static V1.Result ToProto(TrialResult r)
    {
        var proto = new V1.Result
        {
            TrainingIteration = r.TrainingIteration,
            TimeTotalS = r.TimeTotalS,
            Timestamp = r.Timestamp,
            IterationsSinceRestore = r.IterationsSinceRestore,
        };
        foreach (var (name, value) in r.Metrics)
        {
            proto.Metrics[name] = value;
        }

        return proto;
    }

    public static TrialResult ToDomain(V1.Result p) =>
        new(p.TrainingIteration, p.TimeTotalS, p.Timestamp, new Dictionary<string, double>(p.Metrics), p.IterationsSinceRestore);

    public static V1.ExperimentEvent ToProto(ExperimentEvent e)
    {
        var proto = new V1.ExperimentEvent { Position = e.Position, Time = Timestamp.FromDateTimeOffset(e.Time), TrialId = e.TrialId ?? string.Empty };
        switch (e.Kind)
        {
            case ExperimentEventKind.ExperimentStatus:
                proto.ExperimentStatus = new V1.ExperimentStatusChanged { Status = e.ExperimentStatus?.ToWire() ?? string.Empty, Message = e.Message ?? string.Empty };
                break;
            case ExperimentEventKind.TrialCreated:
                proto.TrialCreated = new V1.TrialCreated();
                Fill(proto.TrialCreated.Config, e.Config ?? TrialConfig.Empty);
                break;
            case ExperimentEventKind.TrialStatus:
                proto.TrialStatus = new V1.TrialStatusChanged { Status = e.TrialStatus?.ToWire() ?? string.Empty, Reason = e.Message ?? string.Empty };
                break;
            case ExperimentEventKind.Result:
                proto.Result = ToProto(e.Result!);
                break;
            case ExperimentEventKind.Decision:
                proto.Decision = new V1.TrialDecision { Action = e.Action ?? string.Empty, Reason = e.Message ?? string.Empty };
                break;
            case ExperimentEventKind.ConfigChanged:
                proto.ConfigChanged = new V1.TrialConfigChanged();
                Fill(proto.ConfigChanged.Config, e.Config ?? TrialConfig.Empty);
                break;
        }

        return proto;
    }

    public static ExperimentEvent ToDomain(V1.ExperimentEvent p)
    {
        var trial = Empty(p.TrialId);
        var time = p.Time?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch;
        return p.EventCase switch
        {
            V1.ExperimentEvent.EventOneofCase.ExperimentStatus => new(p.Position, time, ExperimentEventKind.ExperimentStatus, trial, Message: Empty(p.ExperimentStatus.Message), ExperimentStatus: ParseExperimentStatus(p.ExperimentStatus.Status)),
            V1.ExperimentEvent.EventOneofCase.TrialCreated => new(p.Position, time, ExperimentEventKind.TrialCreated, trial, TrialStatus.Pending, Config: ToDomain(p.TrialCreated.Config)),
            V1.ExperimentEvent.EventOneofCase.TrialStatus => new(p.Position, time, ExperimentEventKind.TrialStatus, trial, ParseTrialStatus(p.TrialStatus.Status), Message: Empty(p.TrialStatus.Reason)),
            V1.ExperimentEvent.EventOneofCase.Result => new(p.Position, time, ExperimentEventKind.Result, trial, Result: ToDomain(p.Result)),
            V1.ExperimentEvent.EventOneofCase.Decision => new(p.Position, time, ExperimentEventKind.Decision, trial, Action: p.Decision.Action, Message: Empty(p.Decision.Reason)),
            V1.ExperimentEvent.EventOneofCase.ConfigChanged => new(p.Position, time, ExperimentEventKind.ConfigChanged, trial, Config: ToDomain(p.ConfigChanged.Config)),
            _ => throw new FormatException($"event {p.Position} has no kind this client knows ({p.EventCase}); upgrade the client"),
        };
    }

    public static TrialStatus ParseTrialStatus(string wire) =>
        System.Enum.TryParse<TrialStatus>(wire, ignoreCase: true, out var s) ? s : throw new FormatException($"unknown trial status '{wire}'");

    public static ExperimentStatus ParseExperimentStatus(string wire) =>
        System.Enum.TryParse<ExperimentStatus>(wire, ignoreCase: true, out var s) ? s : throw new FormatException($"unknown experiment status '{wire}'");

    private static void Fill(MapField<string, V1.ParamValue> map, TrialConfig config)
    {
        foreach (var (name, value) in config)
        {
            map[name] = value.Kind switch
            {
                ParamKind.Float => new V1.ParamValue { Float = value.AsDouble() },
                ParamKind.Integer => new V1.ParamValue { Integer = value.AsInteger() },
                ParamKind.Boolean => new V1.ParamValue { Boolean = value.AsDouble() != 0 },
                _ => new V1.ParamValue { Text = value.AsString() },
            };
        }
    }

    private static TrialConfig ToDomain(MapField<string, V1.ParamValue> map) => new(map.Select(p => KeyValuePair.Create(p.Key, p.Value.KindCase switch
    {
        V1.ParamValue.KindOneofCase.Integer => ParamValue.Integer(p.Value.Integer),
        V1.ParamValue.KindOneofCase.Text => ParamValue.String(p.Value.Text),
        V1.ParamValue.KindOneofCase.Boolean => ParamValue.Boolean(p.Value.Boolean),
        _ => ParamValue.Float(p.Value.Float),
    })));

    private static string? Empty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
