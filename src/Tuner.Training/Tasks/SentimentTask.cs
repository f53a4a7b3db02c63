using Tuner.Data;
using Tuner.Data.Datasets;
using Tuner.Data.Text;
using Tuner.Training.Models;
using static TorchSharp.torch;

namespace Tuner.Training.Tasks;

/// <summary>
/// Sentiment labelled sentences (positive or negative), tokenised with a vocabulary built from the
/// training split only; as token indices for learned embeddings, or as one-hot bags of words.
/// </summary>
public sealed class SentimentTask : TrainingTask
{
    private readonly int[][] _trainTokens;
    private readonly long[] _trainLabels;
    private readonly int[][] _validationTokens;
    private readonly long[] _validationLabels;
    private readonly bool _bagOfWords;

    private readonly int[][] _testTokens;
    private readonly long[] _testLabels;

    /// <param name="testFraction">The share of each class held out for testing first (never trained on nor used to select);
    /// <paramref name="validationFraction"/> then applies to the rest.</param>
    public SentimentTask(IReadOnlyList<LabelledSentence> sentences, double validationFraction, int splitSeed, bool bagOfWords, int minFrequency = 1, double testFraction = 0)
    {
        var (rest, test) = DataSplit.Stratified(sentences, s => s.Label, testFraction, splitSeed);
        var (train, validation) = DataSplit.Stratified(rest, s => s.Label, validationFraction, splitSeed);
        var trainWords = train.Select(s => (IReadOnlyList<string>)Tokenizer.Tokenize(s.Text)).ToArray();
        Vocabulary = Vocabulary.Build(trainWords, minFrequency);
        _trainTokens = [.. trainWords.Select(Encode)];
        _trainLabels = [.. train.Select(s => (long)s.Label)];
        _validationTokens = [.. validation.Select(s => Encode(Tokenizer.Tokenize(s.Text)))];
        _validationLabels = [.. validation.Select(s => (long)s.Label)];
        _testTokens = [.. test.Select(s => Encode(Tokenizer.Tokenize(s.Text)))];
        _testLabels = [.. test.Select(s => (long)s.Label)];
        _bagOfWords = bagOfWords;
        Input = new ModelInput(bagOfWords ? InputKind.BagOfWords : InputKind.Tokens, Vocabulary.Count, 2);
    }

    public Vocabulary Vocabulary { get; }

    public override ModelInput Input { get; }

    public override int TrainCount => _trainTokens.Length;

    public override int ValidationCount => _validationTokens.Length;

    public override int TestCount => _testTokens.Length;

    public override TensorBatch TestBatch(int start, int count, Device device) =>
        ToTensors(_testTokens.AsSpan(start, count).ToArray(), _testLabels.AsSpan(start, count).ToArray(), device);

    public override TensorBatch TrainBatch(ReadOnlySpan<int> indices, Device device)
    {
        var tokens = new int[indices.Length][];
        var labels = new long[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            tokens[i] = _trainTokens[indices[i]];
            labels[i] = _trainLabels[indices[i]];
        }

        return ToTensors(tokens, labels, device);
    }

    public override TensorBatch ValidationBatch(int start, int count, Device device) =>
        ToTensors(_validationTokens.AsSpan(start, count).ToArray(), _validationLabels.AsSpan(start, count).ToArray(), device);

    // A sentence with no words gets the unknown word, so every sequence has a step.
    private int[] Encode(IReadOnlyList<string> words) => words.Count == 0 ? [Vocabulary.Unknown] : Vocabulary.Encode(words);

    private TensorBatch ToTensors(int[][] tokens, long[] labels, Device device)
    {
        var lengths = tensor(tokens.Select(t => (long)t.Length).ToArray(), device: device);
        var padded = PaddedBatch.FromTokens(tokens);
        var input = tensor(padded.Values, [padded.Size, padded.MaxLength], device: device);
        if (_bagOfWords)
        {
            // One-hot rows built natively (a 5,000-wide float array per batch would churn the managed heap);
            // column 0 is the padding, never a word.
            var hot = zeros([tokens.Length, Vocabulary.Count], device: device).scatter_(1, input, ones(input.shape, device: device));
            hot[.., 0].zero_();
            input = hot;
        }

        return new TensorBatch(input, lengths, tensor(labels, device: device));
    }
}
