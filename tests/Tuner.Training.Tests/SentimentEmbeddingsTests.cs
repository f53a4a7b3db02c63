using System.Text.Json;
using Tuner.Core.Space;
using Tuner.Core.Trainables;
using Tuner.Training.Models;
using Tuner.Training.Trainables;
using static TorchSharp.torch;

namespace Tuner.Training.Tests;

/// <summary>The embeddings lesson: learned embeddings against a one-hot bag of words, judged on held-out sentences.</summary>
public sealed class SentimentEmbeddingsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public SentimentEmbeddingsTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public async Task LearnedEmbeddings_ReachThreeQuartersOnHeldOutSentences_AndLeaveTheirNearestNeighbours()
    {
        set_num_threads(2);
        SharedData.UseForProcess();
        var dir = Directory.CreateTempSubdirectory("tuner-sentiment-").FullName;
        try
        {
            var embedding = await Train(new TrialConfig([new("model", "embedding"), new("embedding_dim", 64), new("dropout", 0.3), new("lr", 0.003), new("epochs", 10)]), Path.Combine(dir, "embedding"));
            var bow = await Train(new TrialConfig([new("model", "bow"), new("units", 32), new("layers", 1), new("dropout", 0.3), new("lr", 0.003), new("epochs", 10)]), Path.Combine(dir, "bow"));

            Assert.True(embedding["test_accuracy"] >= 0.75, $"learned embeddings: held-out accuracy {embedding["test_accuracy"]}");
            Assert.True(bow["test_accuracy"] >= 0.7, $"bag of words: held-out accuracy {bow["test_accuracy"]}");

            // 3,000 sentences: 600 held out, 480 to validate; a vocabulary of V words costs V x 64 weights as embeddings, V x 32 as one-hot input.
            Assert.True(embedding["parameters"] > 0 && bow["parameters"] > 0);

            // The embedding trial left its neighbours (none of them the word itself, most similar first) and its vectors.
            var neighbours = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "embedding", "embeddings", "neighbours.json"))).RootElement;
            foreach (var word in EmbeddingNeighbours.DefaultWords.Where(w => neighbours.TryGetProperty(w, out _)))
            {
                var list = neighbours.GetProperty(word).EnumerateArray().ToList();
                Assert.Equal(8, list.Count);
                Assert.DoesNotContain(list, n => n.GetProperty("word").GetString() == word);
                var similarities = list.Select(n => n.GetProperty("similarity").GetDouble()).ToList();
                Assert.Equal(similarities.OrderByDescending(s => s), similarities);
            }

            Assert.True(neighbours.EnumerateObject().Count() >= 6, neighbours.ToString());
            var vectors = File.ReadAllLines(Path.Combine(dir, "embedding", "embeddings", "vectors.tsv"));
            Assert.Equal(vectors.Length, File.ReadAllLines(Path.Combine(dir, "embedding", "embeddings", "metadata.tsv")).Length);
            Assert.All(vectors.Take(5), v => Assert.Equal(64, v.Split('\t').Length));
            Assert.False(Directory.Exists(Path.Combine(dir, "bow", "embeddings")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<Dictionary<string, double>> Train(TrialConfig config, string directory)
    {
        Directory.CreateDirectory(directory);
        await using var trainable = new SentimentTrainable();
        await trainable.SetupAsync(new TrialContext("t", config, 5, 1, Directory: directory), Ct);
        while (true)
        {
            var step = await trainable.StepAsync(Ct);
            if (step.Done)
            {
                return new Dictionary<string, double>(step.Metrics);
            }
        }
    }
}
