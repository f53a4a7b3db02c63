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
/// and parallel coordinates. Calls only queue what to write; a background loop writes it once a second,
/// each trial's file opened, appended to and closed, so a short trial costs one write of its whole
/// file and nothing is held open or kept for a trial once it has ended.
/// </summary>
public sealed class TensorBoardSink : IResultSink
{
    public const string PluginName = "hparams";
    public const string ExperimentTag = "_hparams_/experiment";
    public const string SessionStartTag = "_hparams_/session_start_info";
    public const string SessionEndTag = "_hparams_/session_end_info";

    /// <summary>Trials that end sooner than this after they start are summarised in the root run.</summary>
    public static readonly TimeSpan ShortTrial = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);
    private readonly Lock _gate = new();
    private readonly Lock _flushing = new();

    // Per live trial: its event file (named when its first record came) and the records not yet written.
    private readonly Dictionary<string, TrialFile> _trials = new(StringComparer.Ordinal);
    private List<TrialFile> _dirty = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private string? _directory;
    private string _suffix = string.Empty;
    private TrialFile? _root;
    private string _metric = string.Empty;
    private bool _maximize;
    private readonly Dictionary<string, double> _best = new(StringComparer.Ordinal);
    private long _created;

    // Young trials whose records wait to tell whether they are short (touched by the one flush at a time).
    private readonly HashSet<TrialFile> _held = [];

    public string Name => "tensorboard";

    public void ExperimentStarted(string experimentId, ExperimentSpec spec, string runDirectory, DateTimeOffset at, bool resumed)
    {
        _directory = runDirectory;
        _loop ??= Task.Run(RunAsync);
        (_metric, _maximize) = (spec.Metric, spec.Mode == OptimizationMode.Max);

        // A run restarted after a kill writes new files beside the old ones (TensorBoard reads them all).
        _suffix = resumed ? $".{at.ToUnixTimeMilliseconds()}" : string.Empty;
        _root = new TrialFile(runDirectory, _suffix, at, 0);
        if (resumed)
        {
            return;
        }

        var experiment = new Protos.Experiment { Name = spec.Name, Description = $"Tuner experiment {experimentId}", TimeCreatedSecs = at.ToUnixTimeMilliseconds() / 1000.0 };
        foreach (var (name, domain) in spec.Space)
        {
            experiment.HparamInfos.Add(Describe(name, domain));
        }

        // Every objective: with several, the HParams dashboard's scatter plot matrix shows their trade-off.
        foreach (var objective in spec.Objectives)
        {
            experiment.MetricInfos.Add(new MetricInfo { Name = new MetricName { Tag = objective.Metric }, DisplayName = $"{objective.Metric} ({objective.Mode.ToString().ToLowerInvariant()})" });
        }

        experiment.MetricInfos.Add(new MetricInfo { Name = new MetricName { Tag = "training_iteration" } });
        _root.Records.Add(Record(at, 0, HParams(ExperimentTag, new HParamsPluginData { Experiment = experiment })));
        Write(_root);
    }

    // The HParams records are made when written: a short trial's never are (it becomes points of the root run).
    public void TrialCreated(string trialId, TrialConfig config, DateTimeOffset at) =>
        Queue(trialId, at, new Pending(at, 0, null, () => SessionStart(config, at)));

    private static Summary SessionStart(TrialConfig config, DateTimeOffset at)
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

        return HParams(SessionStartTag, new HParamsPluginData { SessionStartInfo = start });
    }

    public void Result(string trialId, TrialResult result)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds((long)(result.Timestamp * 1000));
        Queue(trialId, at, new Pending(at, result.TrainingIteration, result, null));
    }

    public void TrialEnded(string trialId, TrialStatus status, DateTimeOffset at) =>
        Queue(trialId, at, new Pending(at, 0, null, () => SessionEnd(status, at)), ends: true);

    private static Summary SessionEnd(TrialStatus status, DateTimeOffset at)
    {
        var end = new SessionEndInfo
        {
            Status = status == TrialStatus.Error ? Status.Failure : Status.Success,
            EndTimeSecs = at.ToUnixTimeMilliseconds() / 1000.0,
        };
        return HParams(SessionEndTag, new HParamsPluginData { SessionEndInfo = end });
    }

    public async Task ExperimentEndedAsync(ExperimentStatus status, DateTimeOffset at)
    {
        await Task.Run(() => Flush(last: true)).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        Flush(last: true);
        _stop.Dispose();
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

    private void Queue(string trialId, DateTimeOffset at, Pending record, bool ends = false)
    {
        lock (_gate)
        {
            if (!_trials.TryGetValue(trialId, out var file))
            {
                var directory = Path.Combine(_directory ?? throw new InvalidOperationException("the experiment has not started"), "trials", trialId);
                file = _trials[trialId] = new TrialFile(directory, _suffix, at, Number(trialId, ++_created));
            }

            if (file.Queued.Count == 0)
            {
                _dirty.Add(file);
            }

            file.Queued.Add(record);
            if (ends)
            {
                // Its file is named; what is queued still goes there, and nothing of it stays once written.
                _trials.Remove(trialId);
                file.Ended = at;
            }
        }
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(FlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    Flush();
                }
                catch (IOException)
                {
                    // The next flush tries again; what it cannot write is dropped then (a sink never fails the experiment).
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Writes every queued record: each trial's file opened once, appended to and closed. A trial younger
    /// than <see cref="ShortTrial"/> is held (its next record or its end queues it again) unless this is the
    /// last flush, which writes everything.
    /// </summary>
    private void Flush(bool last = false)
    {
        lock (_flushing)
        {
            List<(TrialFile File, List<Pending> Queued, DateTimeOffset? Ended)> dirty;
            lock (_gate)
            {
                // Only the lists change hands under the lock: the experiment's calls never wait on serializing or writing.
                dirty = [.. _dirty.Select(f => (f, f.TakeQueued(), f.Ended))];
                _dirty = [];
            }

            var summarised = false;
            foreach (var (file, queued, ended) in dirty)
            {
                file.Pending.AddRange(queued);
                _held.Remove(file);
                if (!file.Started && file.Pending.Count > 0 && file.Pending[^1].At - file.Created < ShortTrial)
                {
                    if (ended is { } at)
                    {
                        Summarise(file, at);
                        summarised = true;
                        continue;
                    }

                    if (!last)
                    {
                        _held.Add(file);
                        continue;
                    }
                }

                WritePending(file);
            }

            if (last)
            {
                foreach (var file in _held)
                {
                    WritePending(file);
                }

                _held.Clear();
            }

            if (summarised)
            {
                Write(_root!);
            }
        }
    }

    private static void WritePending(TrialFile file)
    {
        file.Records.AddRange(file.Pending.Select(Serialize));
        file.Pending.Clear();
        Write(file);
    }

    /// <summary>A short trial's last value of each metric, and the best so far, as points of the root run at its number.</summary>
    private void Summarise(TrialFile file, DateTimeOffset ended)
    {
        var last = file.Pending.LastOrDefault(p => p.Result is not null)?.Result;
        file.Pending.Clear();
        if (last is null)
        {
            return;
        }

        var summary = new Summary();
        summary.Value.Add(new Summary.Types.Value { Tag = "trials/training_iteration", SimpleValue = last.TrainingIteration });
        summary.Value.Add(new Summary.Types.Value { Tag = "trials/time_total_s", SimpleValue = (float)last.TimeTotalS });
        foreach (var (name, value) in last.Metrics)
        {
            summary.Value.Add(new Summary.Types.Value { Tag = $"trials/{name}", SimpleValue = (float)value });
        }

        if (last.Metrics.TryGetValue(_metric, out var metric) && double.IsFinite(metric))
        {
            var better = !_best.TryGetValue(_metric, out var best) || (_maximize ? metric > best : metric < best);
            _best[_metric] = better ? metric : best;
            summary.Value.Add(new Summary.Types.Value { Tag = $"best/{_metric}", SimpleValue = (float)_best[_metric] });
        }

        _root!.Records.Add(Record(ended, file.Number, summary));
    }

    /// <summary>A trial's number: the digits its id ends with (t00042 is 42), else its order of creation.</summary>
    private static long Number(string trialId, long created)
    {
        var digits = trialId.Length;
        while (digits > 0 && char.IsAsciiDigit(trialId[digits - 1]))
        {
            digits--;
        }

        return digits < trialId.Length && long.TryParse(trialId.AsSpan(digits), out var number) ? number : created;
    }

    private static byte[] Serialize(Pending p)
    {
        var summary = p.Make?.Invoke();
        if (p.Result is { } result)
        {
            summary = new Summary();
            summary.Value.Add(new Summary.Types.Value { Tag = "training_iteration", SimpleValue = result.TrainingIteration });
            summary.Value.Add(new Summary.Types.Value { Tag = "time_total_s", SimpleValue = (float)result.TimeTotalS });
            foreach (var (name, value) in result.Metrics)
            {
                summary.Value.Add(new Summary.Types.Value { Tag = name, SimpleValue = (float)value });
            }
        }

        return Record(p.At, p.Step, summary!);
    }

    private static byte[] Record(DateTimeOffset at, long step, Summary summary) =>
        new Event { WallTime = at.ToUnixTimeMilliseconds() / 1000.0, Step = step, Summary = summary }.ToByteArray();

    /// <summary>Appends the file's records; a new file starts with TensorBoard's version record.</summary>
    private static void Write(TrialFile file)
    {
        if (!file.Started)
        {
            Directory.CreateDirectory(file.Directory);
        }

        using var stream = new FileStream(Path.Combine(file.Directory, file.Name), FileMode.Append, FileAccess.Write, FileShare.Read, 16 * 1024);
        if (!file.Started)
        {
            EventFile.WriteRecord(stream, new Event { WallTime = file.Created.ToUnixTimeMilliseconds() / 1000.0, FileVersion = "brain.Event:2" }.ToByteArray());
            file.Started = true;
        }

        foreach (var record in file.Records)
        {
            EventFile.WriteRecord(stream, record);
        }

        file.Records.Clear();
    }

    /// <summary>A record to write: a result's scalars, or a summary made when written.</summary>
    private sealed record Pending(DateTimeOffset At, long Step, TrialResult? Result, Func<Summary>? Make);

    /// <summary>An event file: the run's own, or a trial's (whose name is made only if it is written).</summary>
    private sealed class TrialFile(string directory, string suffix, DateTimeOffset created, long number)
    {
        private string? _name;

        public long Number { get; } = number;

        /// <summary>When the trial ended (set under the sink's gate).</summary>
        public DateTimeOffset? Ended { get; set; }

        /// <summary>Records taken from the queue and not yet written or summarised (by the one flush at a time).</summary>
        public List<Pending> Pending { get; } = [];

        public string Directory { get; } = directory;

        public string Name => _name ??= EventFile.FileName(Created, suffix);

        public DateTimeOffset Created { get; } = created;

        public bool Started { get; set; }

        /// <summary>Records queued by the experiment's calls (guarded by the sink's gate).</summary>
        public List<Pending> Queued { get; private set; } = [];

        /// <summary>The queued records, handed over; the queue starts empty again.</summary>
        public List<Pending> TakeQueued()
        {
            var queued = Queued;
            Queued = [];
            return queued;
        }

        /// <summary>Records being written (by the one flush at a time).</summary>
        public List<byte[]> Records { get; } = [];
    }
}
