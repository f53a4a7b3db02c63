namespace Tuner.Core.Trainables;

/// <summary>The trainables a worker can run, by name.</summary>
public sealed class TrainableRegistry
{
    private readonly Dictionary<string, TrainableDescriptor> _byName = new(StringComparer.Ordinal);

    /// <summary>
    /// A registry holding the data-free built-ins (branin, hartmann6, sleep, noop, zdt1, zdt2) and the TorchSharp
    /// classifiers (gestures, sentiment, ants_bees), which run in trial processes.
    /// </summary>
    public static TrainableRegistry CreateDefault()
    {
        var registry = new TrainableRegistry();
        registry.Register(BraninTrainable.Descriptor);
        registry.Register(Hartmann6Trainable.Descriptor);
        registry.Register(SleepTrainable.Descriptor);
        registry.Register(NoopTrainable.Descriptor);
        registry.Register(ZdtTrainable.Zdt1);
        registry.Register(ZdtTrainable.Zdt2);
        registry.Register(ClassifierDescriptors.Gestures);
        registry.Register(ClassifierDescriptors.Sentiment);
        registry.Register(ClassifierDescriptors.AntsBees);
        return registry;
    }

    public IEnumerable<string> Names => _byName.Keys.Order(StringComparer.Ordinal);

    public void Register(TrainableDescriptor descriptor) => _byName[descriptor.Name] = descriptor;

    public bool TryGet(string name, out TrainableDescriptor descriptor) => _byName.TryGetValue(name, out descriptor!);

    public TrainableDescriptor Get(string name) =>
        TryGet(name, out var d) ? d : throw new KeyNotFoundException($"no trainable named '{name}' (known: {string.Join(", ", Names)})");
}
