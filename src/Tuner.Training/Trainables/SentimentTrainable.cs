using Tuner.Core.Trainables;
using Tuner.Data.Cache;
using Tuner.Data.Datasets;
using Tuner.Training.Tasks;

namespace Tuner.Training.Trainables;

/// <summary>
/// Sentiment of short reviews (positive or negative): learned word embeddings (model embedding)
/// against the one-hot bag-of-words baseline (model bow), the course's embeddings lesson.
/// </summary>
public sealed class SentimentTrainable : ClassifierTrainable
{
    public static TrainableDescriptor Descriptor { get; } = ClassifierDescriptors.Sentiment with { Create = () => new SentimentTrainable() };

    protected override IReadOnlyList<string> Families { get; } = ["embedding", "bow"];

    protected override async Task<(TrainingTask Task, string Family)> LoadAsync(string model, double validationFraction, int splitSeed, CancellationToken cancellationToken)
    {
        var sentences = await SentimentDataset.LoadAsync(DataCache.Resolve(), cancellationToken).ConfigureAwait(false);
        var bagOfWords = model == "bow";
        return (new SentimentTask(sentences, validationFraction, splitSeed, bagOfWords), bagOfWords ? "mlp" : "embedding");
    }
}
