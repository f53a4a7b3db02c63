using Tuner.Core.Trainables;

namespace Tuner.Training.Trainables;

/// <summary>Every trainable Tuner ships: the data-free built-ins and the TorchSharp ones.</summary>
public static class TrainableCatalog
{
    public static TrainableRegistry Create()
    {
        var registry = TrainableRegistry.CreateDefault();
        registry.Register(GesturesTrainable.Descriptor);
        registry.Register(SentimentTrainable.Descriptor);
        return registry;
    }
}
