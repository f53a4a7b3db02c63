using Tuner.Core.Space;
using Tuner.Training.Configuration;
using Tuner.Training.Models;
using static TorchSharp.torch;

namespace Tuner.Training.Tests;

public sealed class ModelFactoryTests
{
    private static readonly ModelInput Gestures = new(InputKind.Sequence, 3, 20);

    public ModelFactoryTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Mlp_LayerK_TakesUnitsK_WhenTheConfigSetsIt_AndUnitsOtherwise()
    {
        // A conditional space gives units_2 only when layers >= 2; layer 3 falls back on units.
        using var model = ModelFactory.Create("mlp", Gestures, Config(("layers", 3), ("units", 5), ("units_1", 8), ("units_2", 4)));

        // Inputs: the mean and max of 3 features over time.
        var expected = ((6 * 8) + 8) + ((8 * 4) + 4) + ((4 * 5) + 5) + ((5 * 20) + 20);
        Assert.Equal(expected, model.ParameterCount());
    }

    [Fact]
    public void Gru_ParameterCount_IsPyTorchs()
    {
        using var model = ModelFactory.Create("rnn", Gestures, Config(("hidden_size", 16), ("num_layers", 2)));

        // Per layer 3 gates x (input weights + hidden weights + two biases), then the linear head.
        long h = 16;
        var expected = (3 * ((h * 3) + (h * h) + (2 * h))) + (3 * ((h * h) + (h * h) + (2 * h))) + (h * 20) + 20;
        Assert.Equal(expected, model.ParameterCount());
    }

    [Theory]
    [InlineData("gru", false)]
    [InlineData("lstm", false)]
    [InlineData("gru", true)]
    [InlineData("lstm", true)]
    public void Rnn_ReadsEachSequenceToItsOwnEnd_NotIntoThePadding(string cell, bool bidirectional)
    {
        manual_seed(3);
        using var model = ModelFactory.Create("rnn", Gestures, Config(("cell", cell), ("bidirectional", bidirectional), ("hidden_size", 8), ("num_layers", 2)));
        model.eval();
        using var input = randn(4, 7, 3);
        using var lengths = tensor(new long[] { 7, 3, 5, 1 });

        using var batched = model.call(input, lengths);
        using var alone = model.call(input[1..2, ..3], tensor(new long[] { 3 }));

        Assert.Equal([4L, 20L], batched.shape);
        Assert.True(allclose(batched[1..2], alone, rtol: 1e-5, atol: 1e-6), "the padded sequence's output differs from the sequence alone");
    }

    [Fact]
    public void Cnn_Builds1dForSequencesAnd2dForImages_WithTheirParameterCounts()
    {
        var config = Config(("conv_layers", 2), ("filters", 8), ("kernel", 3), ("dense_layers", 1), ("units", 16));
        using var conv1d = ModelFactory.Create("cnn", Gestures, config);
        using var conv2d = ModelFactory.Create("cnn", new ModelInput(InputKind.Image, 3, 2, 32, 32), config);

        // 1-D: (3x8x3+8) + (8x8x3+8) + dense (8x16+16) + head (16x20+20).
        Assert.Equal(80 + 200 + 144 + 340, conv1d.ParameterCount());

        // 2-D: (3x8x9+8) + (8x8x9+8) + dense (8x16+16) + head (16x2+2).
        Assert.Equal(224 + 584 + 144 + 34, conv2d.ParameterCount());
        using var sequences = conv1d.call(randn(5, 10, 3), tensor(new long[] { 10, 10, 10, 10, 10 }));
        using var images = conv2d.call(randn(5, 3, 32, 32), zeros(5, dtype: int64));
        Assert.Equal([5L, 20L], sequences.shape);
        Assert.Equal([5L, 2L], images.shape);
    }

    [Fact]
    public void Embedding_CostsVocabularyTimesDimensions_WhereTheBagOfWordsCostsVocabularyTimesUnits()
    {
        using var embedding = ModelFactory.Create("embedding", new ModelInput(InputKind.Tokens, 1000, 2), Config(("embedding_dim", 8)));
        using var bow = ModelFactory.Create("mlp", new ModelInput(InputKind.BagOfWords, 1000, 2), Config(("layers", 1), ("units", 64)));

        Assert.Equal((1000 * 8) + (8 * 2) + 2, embedding.ParameterCount());
        Assert.Equal((1000 * 64) + 64 + (64 * 2) + 2, bow.ParameterCount());
        using var tokens = tensor(new long[] { 5, 9, 0, 7, 0, 0 }).reshape(2, 3);
        using var output = embedding.call(tokens, tensor(new long[] { 2, 1 }));
        Assert.Equal([2L, 2L], output.shape);
    }

    [Theory]
    [InlineData("rnn", "model", "transformer", "model: 'transformer' is not one of the allowed values: mlp, cnn, rnn, embedding")]
    [InlineData("rnn", "cell", "rnn", "cell: 'rnn' is not one of the allowed values: gru, lstm")]
    [InlineData("rnn", "dropout", 1.5, "dropout: must be at least 0 and less than 1, got 1.5")]
    [InlineData("cnn", "pooling", "min", "pooling: 'min' is not one of the allowed values: max, avg, none")]
    [InlineData("mlp", "activation", "swish", "activation: 'swish' is not one of the allowed values: relu, gelu, tanh, leaky_relu")]
    [InlineData("rnn", "hidden_size", 0L, "hidden_size: must be a whole number from 1 to 8192, got 0")]
    public void BadValues_FailNamingTheKeyAndTheAllowedValues(string family, string key, object value, string message)
    {
        var param = value switch
        {
            string s => ParamValue.String(s),
            double d => ParamValue.Float(d),
            long l => ParamValue.Integer(l),
            _ => throw new ArgumentException("unexpected", nameof(value)),
        };
        var ex = Assert.Throws<ConfigException>(() => ModelFactory.Create(key == "model" ? (string)value : family, Gestures, new TrialConfig([new(key, param)])));

        Assert.Equal(message, ex.Message);
        Assert.Equal(key, ex.Key);
    }

    [Fact]
    public void AFamily_RefusesAnInputItCannotRead()
    {
        var ex = Assert.Throws<ConfigException>(() => ModelFactory.Create("rnn", new ModelInput(InputKind.Image, 3, 2, 8, 8), TrialConfig.Empty));

        Assert.StartsWith("model: rnn takes feature sequences", ex.Message, StringComparison.Ordinal);
    }

    internal static TrialConfig Config(params (string Key, ParamValue Value)[] items) =>
        new(items.Select(i => new KeyValuePair<string, ParamValue>(i.Key, i.Value)));
}
