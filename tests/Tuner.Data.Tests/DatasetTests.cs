using Tuner.Data.Datasets;
using Tuner.Data.Text;

namespace Tuner.Data.Tests;

public sealed class DatasetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Gestures_HoldEverySequenceOfEveryUserAndGesture()
    {
        var sequences = await GesturesDataset.LoadAsync(SharedData.Cache, Ct);

        Assert.Equal(3251, sequences.Count);
        Assert.Equal(Enumerable.Range(0, GesturesDataset.Classes), sequences.Select(s => s.Label).Distinct().Order());
        Assert.Equal(8, sequences.Select(s => s.User).Distinct().Count());
        // The data's README says 19-51 steps; the files hold 10 (U04/04/17.txt) to 51.
        Assert.Equal((10, 51), (sequences.Min(s => s.Steps.Length), sequences.Max(s => s.Steps.Length)));
        Assert.All(sequences, s => Assert.All(s.Steps, step => Assert.Equal(GesturesDataset.Features, step.Length)));
        var first = sequences[0];
        Assert.Equal(("U01", 0), (first.User, first.Label));
        Assert.Equal([1.532289f, -0.919373f, 10.113108f], first.Steps[0]);
    }

    [Fact]
    public async Task Sentiment_Holds1000SentencesPerSource_HalfOfThemPositive()
    {
        var sentences = await SentimentDataset.LoadAsync(SharedData.Cache, Ct);

        Assert.Equal(3000, sentences.Count);
        foreach (var source in sentences.GroupBy(s => s.Source))
        {
            Assert.Equal(1000, source.Count());
            Assert.Equal(500, source.Count(s => s.Label == 1));
        }

        Assert.Contains(sentences, s => s is { Text: "Good case, Excellent value.", Label: 1, Source: "amazon" });
        Assert.DoesNotContain(sentences, s => s.Text.Length == 0 || s.Text.Contains('\t', StringComparison.Ordinal));
    }

    [Fact]
    public void Tokenizer_LowercasesAndKeepsInnerApostrophes() =>
        Assert.Equal(["don't", "buy", "it", "10", "times"], Tokenizer.Tokenize("Don't BUY it -- 10 times!"));

    [Fact]
    public void Vocabulary_ReservesPaddingAndUnknown_ThenOrdersByFrequency()
    {
        var vocabulary = Vocabulary.Build([["good", "bad", "good"], ["good", "fine", "bad"]], minFrequency: 2);

        Assert.Equal(["<pad>", "<unk>", "good", "bad"], vocabulary.Words);
        Assert.Equal([2, 3, Vocabulary.Unknown], vocabulary.Encode(["good", "bad", "fine"]));
    }

    [Fact]
    public void StratifiedSplit_KeepsClassSharesAndIsSeeded()
    {
        var items = Enumerable.Range(0, 1000).Select(i => (Id: i, Label: i % 10 < 3 ? 1 : 0)).ToList();

        var (train, valid) = DataSplit.Stratified(items, i => i.Label, 0.2, seed: 4);
        var again = DataSplit.Stratified(items, i => i.Label, 0.2, seed: 4);
        var other = DataSplit.Stratified(items, i => i.Label, 0.2, seed: 5);

        Assert.Equal(200, valid.Count);
        Assert.Equal(60, valid.Count(i => i.Label == 1));
        Assert.Equal(1000, train.Concat(valid).Select(i => i.Id).Distinct().Count());
        Assert.Equal(valid, again.Validation);
        Assert.NotEqual(valid, other.Validation);
    }

    [Fact]
    public void PaddedBatch_PadsToTheLongestInTheBatch()
    {
        var batch = PaddedBatch.FromSequences([[[1f, 2f], [3f, 4f]], [[5f, 6f]]]);

        Assert.Equal((2, 2, 2), (batch.Size, batch.MaxLength, batch.Features));
        Assert.Equal([2, 1], batch.Lengths);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f, 0f, 0f], batch.Values);

        var tokens = PaddedBatch.FromTokens([[4, 5, 6], [7]]);
        Assert.Equal([4L, 5, 6, 7, Vocabulary.Padding, Vocabulary.Padding], tokens.Values);
    }
}
