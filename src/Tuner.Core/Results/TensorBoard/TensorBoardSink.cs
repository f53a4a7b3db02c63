using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Tuner.Core.Experiments;
using Tuner.Core.Results.Sinks;
using Tuner.Core.Results.TensorBoard.Protos;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Results.TensorBoard;

/// <summary>
/// TensorBoard files in the run folder, as Ray's TBX logger writes them: each trial's folder
/// (<c>trials/&lt;id&gt;</c>, a TensorBoard run) gets an event file with a scalar per reported metric at
/// each iteration, and the HParams plugin's session start (the trial's config) and end (its status);
/// the run folder's root gets the HParams experiment (every hyperparameter with its domain, the
/// metric). <c>tensorboard --logdir runs/&lt;experiment&gt;</c> shows the curves, the HParams table
/// and parallel coordinates.
/// </summary>
public sealed class TensorBoardSink : IResultSink
{
    public const string PluginName = "hparams";
    public const string ExperimentTag = "_hparams_/experiment";
    public const string SessionStartTag = "_hparams_/session_start_info";
    public const string SessionEndTag = "_hparams_/session_end_info";

    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);
    private readonly Dictionary<string, Stream> _trials = new(StringComparer.Ordinal);
    private readonly HashSet<Stream> _dirty = [];
    private string? _directory;
    private string _suffix = string.Empty;
    private long _lastFlush = Environment.TickCount64;

    public string Name => "tensorboard";

    public void ExperimentStarted(string experimentId, ExperimentSpec spec, string runDirectory, DateTimeOffset at, bool resumed)
    {
        _directory = runDirectory;

        // A run restarted after a kill writes new files beside the old ones (TensorBoard reads them all).
        _suffix = resumed ? $".{at.ToUnixTimeMilliseconds()}" : string.Empty;
        if (resumed)
        {
            return;
        }

        using var root = Open(runDirectory, at);
        var experiment = new Protos.Experiment { Name = spec.Name, Description = $"Tuner experiment {experimentId}", TimeCreatedSecs = at.ToUnixTimeMilliseconds() / 1000.0 };
        foreach (var (name, domain) in spec.Space)
        {
            experiment.HparamInfos.Add(Describe(name, domain));
        }

        experiment.MetricInfos.Add(new MetricInfo { Name = new MetricName { Tag = spec.Metric }, DisplayName = $"{spec.Metric} ({spec.Mode.ToString().ToLowerInvariant()})" });
        experiment.MetricInfos.Add(new MetricInfo { Name = new MetricName { Tag = "training_iteration" } });
        Write(root, at, 0, HParams(ExperimentTag, new HParamsPluginData { Experiment = experiment }));
        _dirty.Remove(root);
    }

    public void TrialCreated(string trialId, TrialConfig config, DateTimeOffset at)
    {
        var start = new SessionStartInfo { StartTimeSecs = at.ToUnixTimeMilliseconds() / 1000.0 };
        foreach (var (name, value) in config)
        {
            start.Hparams[name] = value.Kind switch
            {
                ParamKind.String => Value.ForString(value.AsString()),
                ParamKind.Boolean => Value.ForBool(value.AsBoolean()),
                _ => Value.ForNumber(value.AsDouble()),
            };
        }

        Write(Trial(trialId, at), at, 0, HParams(SessionStartTag, new HParamsPluginData { SessionStartInfo = start }));
    }

    public void Result(string trialId, TrialResult result)
    {
        var summary = new Summary();
        summary.Value.Add(new Summary.Types.Value { Tag = "training_iteration", SimpleValue = result.TrainingIteration });
        summary.Value.Add(new Summary.Types.Value { Tag = "time_total_s", SimpleValue = (float)result.TimeTotalS });
        foreach (var (name, value) in result.Metrics)
        {
            summary.Value.Add(new Summary.Types.Value { Tag = name, SimpleValue = (float)value });
        }

        var at = DateTimeOffset.FromUnixTimeMilliseconds((long)(result.Timestamp * 1000));
        Write(Trial(trialId, at), at, result.TrainingIteration, summary);
        if (Environment.TickCount64 - _lastFlush >= FlushInterval.TotalMilliseconds)
        {
            Flush();
        }
    }

    public void TrialEnded(string trialId, TrialStatus status, DateTimeOffset at)
    {
        var stream = Trial(trialId, at);
        var end = new SessionEndInfo
        {
            Status = status == TrialStatus.Error ? Status.Failure : Status.Success,
            EndTimeSecs = at.ToUnixTimeMilliseconds() / 1000.0,
        };
        Write(stream, at, 0, HParams(SessionEndTag, new HParamsPluginData { SessionEndInfo = end }));
        _trials.Remove(trialId);
        _dirty.Remove(stream);
        stream.Dispose();
    }

    public Task ExperimentEndedAsync(ExperimentStatus status, DateTimeOffset at)
    {
        Flush();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var stream in _trials.Values)
        {
            stream.Dispose();
        }

        _trials.Clear();
        _dirty.Clear();
        return ValueTask.CompletedTask;
    }

    /// <summary>What TensorBoard's HParams table shows for a hyperparameter: numbers with their range, choices with their values.</summary>
    public static HParamInfo Describe(string name, Space.Domain domain)
    {
        var info = new HParamInfo { Name = name };
        switch (domain)
        {
            case UniformDomain d:
                (info.Type, info.DomainInterval) = (DataType.Float64, new Interval { MinValue = d.Low, MaxValue = d.High });
                break;
            case QUniformDomain d:
                (info.Type, info.DomainInterval) = (DataType.Float64, new Interval { MinValue = d.Low, MaxValue = d.High });
                break;
            case LogUniformDomain d:
                (info.Type, info.DomainInterval) = (DataType.Float64, new Interval { MinValue = d.Low, MaxValue = d.High });
                break;
            case QLogUniformDomain d:
                (info.Type, info.DomainInterval) = (DataType.Float64, new Interval { MinValue = d.Low, MaxValue = d.High });
                break;
            default:
                if (domain.EnumerateValues() is { } values)
                {
                    var kinds = values.Select(v => v.Kind).Distinct().ToList();
                    info.Type = kinds.All(k => k is ParamKind.Float or ParamKind.Integer) ? DataType.Float64
                        : kinds.All(k => k == ParamKind.Boolean) ? DataType.Bool
                        : DataType.String;
                    var list = new ListValue();
                    foreach (var value in values)
                    {
                        list.Values.Add(info.Type switch
                        {
                            DataType.Float64 => Value.ForNumber(value.AsDouble()),
                            DataType.Bool => Value.ForBool(value.AsBoolean()),
                            _ => Value.ForString(value.ToString()),
                        });
                    }

                    info.DomainDiscrete = list;
                }
                else
                {
                    // Unbounded (normal) or too many to list: a number without a declared range.
                    info.Type = DataType.Float64;
                }

                break;
        }

        return info;
    }

    private static Summary HParams(string tag, HParamsPluginData data) => new()
    {
        Value =
        {
            new Summary.Types.Value
            {
                Tag = tag,
                Metadata = new SummaryMetadata { PluginData = new SummaryMetadata.Types.PluginData { PluginName = PluginName, Content = data.ToByteString() } },

                // The HParams plugin's summaries carry an empty float tensor (TensorBoard's NULL_TENSOR).
                Tensor = new TensorProto { Dtype = 1, TensorShape = new TensorShapeProto(), FloatVal = { 0f } },
            },
        },
    };

    private Stream Trial(string trialId, DateTimeOffset at)
    {
        if (!_trials.TryGetValue(trialId, out var stream))
        {
            stream = _trials[trialId] = Open(Path.Combine(_directory ?? throw new InvalidOperationException("the experiment has not started"), "trials", trialId), at);
        }

        return stream;
    }

    private Stream Open(string directory, DateTimeOffset at)
    {
        Directory.CreateDirectory(directory);
        var stream = new FileStream(Path.Combine(directory, EventFile.FileName(at, _suffix)), FileMode.Append, FileAccess.Write, FileShare.Read, 16 * 1024);
        var version = new Event { WallTime = at.ToUnixTimeMilliseconds() / 1000.0, FileVersion = "brain.Event:2" };
        EventFile.WriteRecord(stream, version.ToByteArray());
        return stream;
    }

    private void Write(Stream stream, DateTimeOffset at, long step, Summary summary)
    {
        var e = new Event { WallTime = at.ToUnixTimeMilliseconds() / 1000.0, Step = step, Summary = summary };
        EventFile.WriteRecord(stream, e.ToByteArray());
        _dirty.Add(stream);
    }

    private void Flush()
    {
        foreach (var stream in _dirty)
        {
            stream.Flush();
        }

        _dirty.Clear();
        _lastFlush = Environment.TickCount64;
    }
}
