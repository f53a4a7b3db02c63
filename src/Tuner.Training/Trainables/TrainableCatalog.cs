using Tuner.Core.Trainables;

namespace Tuner.Training.Trainables;

/// <summary>The registry of a trial process: the built-ins with the TorchSharp classifiers' factories.</summary>
public static class TrainableCatalog
{
    public static TrainableRegistry Create()
    {
        var registry = TrainableRegistry.CreateDefault();
        registry.Register(GesturesTrainable.Descriptor);
        registry.Register(SentimentTrainable.Descriptor);
        registry.Register(AntsBeesTrainable.Descriptor);
        return registry;
    }
}
