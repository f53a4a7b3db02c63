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
    public static TrainableDescriptor Descriptor { get; } = new(
        "sentiment",
        "Sentiment labelled sentences with learned embeddings or a one-hot bag of words in TorchSharp",
        Metrics,
        [
            new("model", false, "embedding or bow (default embedding)"),
            new("embedding_dim", false, "embedding: vector size (default 64)"),
            new("encoder", false, "embedding: mean, max, gru or lstm (default mean)"),
            new("hidden_size", false, "embedding with gru/lstm: hidden units (default 64)"),
            new("num_layers", false, "embedding with gru/lstm: stacked layers (default 1)"),
            new("bidirectional", false, "embedding with gru/lstm: read both directions (default false)"),
            new("layers", false, "bow: hidden layers (default 2)"),
            new("batch_norm", false, "bow: batch normalisation (default false)"),
            .. TrainingParameters,
        ],
        () => new SentimentTrainable(),
        RunsInChildProcess: true);

    protected override IReadOnlyList<string> Families { get; } = ["embedding", "bow"];

    protected override async Task<(TrainingTask Task, string Family)> LoadAsync(string model, double validationFraction, int splitSeed, CancellationToken cancellationToken)
    {
        var sentences = await SentimentDataset.LoadAsync(DataCache.Resolve(), cancellationToken).ConfigureAwait(false);
        var bagOfWords = model == "bow";
        return (new SentimentTask(sentences, validationFraction, splitSeed, bagOfWords), bagOfWords ? "mlp" : "embedding");
    }
}
