using Tuner.Core.Trainables;
using Tuner.Data.Cache;
using Tuner.Data.Datasets;
using Tuner.Training.Configuration;
using Tuner.Training.Models;
using Tuner.Training.Tasks;

namespace Tuner.Training.Trainables;

/// <summary>
/// Sentiment of short reviews (positive or negative): learned word embeddings (model embedding)
/// against the one-hot bag-of-words baseline (model bow), the course's embeddings lesson. A share of
/// each class (<c>test_fraction</c>, 0.2) is held out before the train/validation split: its accuracy,
/// <c>test_accuracy</c>, is reported every epoch but nothing is selected on it. After the last epoch an
/// embedding model leaves its vectors in the trial's folder (<see cref="EmbeddingNeighbours"/>): the
/// nearest neighbours of <c>neighbour_words</c> and the vectors for TensorBoard's projector.
/// </summary>
public sealed class SentimentTrainable : ClassifierTrainable
{
    private SentimentTask? _task;
    private bool _embedding;

    public static TrainableDescriptor Descriptor { get; } = ClassifierDescriptors.Sentiment with { Create = () => new SentimentTrainable() };

    protected override IReadOnlyList<string> Families { get; } = ["embedding", "bow"];

    protected override async Task<(TrainingTask Task, string Family)> LoadAsync(string model, double validationFraction, int splitSeed, CancellationToken cancellationToken)
    {
        var testFraction = new ConfigReader(Context!.Config).Fraction("test_fraction", 0.2);
        var sentences = await SentimentDataset.LoadAsync(DataCache.Resolve(), cancellationToken).ConfigureAwait(false);
        var bagOfWords = model == "bow";
        _embedding = !bagOfWords;
        _task = new SentimentTask(sentences, validationFraction, splitSeed, bagOfWords, testFraction: testFraction);
        return (_task, bagOfWords ? "mlp" : "embedding");
    }

    protected override void AddMetrics(Dictionary<string, double> metrics)
    {
        var trainer = Trainer!;
        metrics["test_accuracy"] = trainer.Test(CancellationToken.None).Accuracy;
        if (_embedding && trainer.Epoch >= Epochs && Context!.Directory is { } directory && trainer.Model is EmbeddingModel model)
        {
            var words = EmbeddingNeighbours.Words(Context.Config);
            EmbeddingNeighbours.Write(Path.Combine(directory, "embeddings"), model.Vectors(), _task!.Vocabulary, words, 8);
        }
    }
}
