using Microsoft.Extensions.Logging;
using Tuner.Core.Spec;
using Tuner.Core.Trainables;

namespace Tuner.Worker.Plugins;

/// <summary>
/// The custom trainable assemblies this worker has loaded, one collectible load context per
/// experiment: loaded by the experiment's first trial here, unloaded when the experiment has ended
/// and none of its trials runs here any more.
/// </summary>
public sealed partial class TrainableAssemblyCache(ILogger<TrainableAssemblyCache> logger)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _byExperiment = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ended = new(StringComparer.Ordinal);
    private readonly List<WeakReference> _unloaded = [];

    /// <summary>Experiments whose assemblies are loaded now.</summary>
    public IReadOnlyCollection<string> Loaded
    {
        get
        {
            lock (_gate)
            {
                return [.. _byExperiment.Keys];
            }
        }
    }

    /// <summary>How many unloaded contexts the runtime still holds (their types still referenced somewhere).</summary>
    public int UnloadingContexts
    {
        get
        {
            lock (_gate)
            {
                _unloaded.RemoveAll(w => !w.IsAlive);
                return _unloaded.Count;
            }
        }
    }

    /// <summary>The experiment's trainable, loaded on first use; pair every call with <see cref="Release"/>.</summary>
    public TrainableDescriptor Acquire(string experimentId, CustomTrainableSpec spec)
    {
        lock (_gate)
        {
            if (!_byExperiment.TryGetValue(experimentId, out var entry))
            {
                entry = new Entry(TrainableAssembly.Load(spec));
                _byExperiment[experimentId] = entry;
                LogLoaded(logger, spec.Type, spec.Assembly, experimentId);
            }

            entry.Users++;
            return entry.Assembly.Descriptor;
        }
    }

    public void Release(string experimentId)
    {
        lock (_gate)
        {
            if (_byExperiment.TryGetValue(experimentId, out var entry) && --entry.Users == 0 && _ended.Contains(experimentId))
            {
                Unload(experimentId, entry);
            }
        }
    }

    /// <summary>The experiment has ended: its assembly goes as soon as its last trial here has.</summary>
    public void ExperimentEnded(string experimentId)
    {
        lock (_gate)
        {
            if (_byExperiment.TryGetValue(experimentId, out var entry))
            {
                if (entry.Users == 0)
                {
                    Unload(experimentId, entry);
                }
                else
                {
                    _ended.Add(experimentId);
                }
            }
        }
    }

    private void Unload(string experimentId, Entry entry)
    {
        _byExperiment.Remove(experimentId);
        _ended.Remove(experimentId);
        _unloaded.Add(entry.Assembly.ContextReference());
        entry.Assembly.Dispose();
        LogUnloaded(logger, experimentId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded trainable {Type} from {Assembly} for experiment {ExperimentId}")]
    private static partial void LogLoaded(ILogger logger, string? type, string? assembly, string experimentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unloaded the trainable assembly of experiment {ExperimentId}")]
    private static partial void LogUnloaded(ILogger logger, string experimentId);

    private sealed class Entry(TrainableAssembly assembly)
    {
        public TrainableAssembly Assembly { get; } = assembly;

        public int Users { get; set; }
    }
}
