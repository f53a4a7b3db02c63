using TorchSharp.Modules;
using Tuner.Training.Configuration;
using static TorchSharp.torch;

namespace Tuner.Training.Models;

/// <summary>
/// Learned word embeddings: tokens to vectors of <c>embedding_dim</c>, combined by the
/// <c>encoder</c> (mean or max over the real tokens, or a gru / lstm of <c>hidden_size</c>), then
/// <c>dropout</c> and <c>dense_layers</c> of <c>units</c> to the classes. Compare with the one-hot
/// bag of words (<see cref="MlpModel"/> on <see cref="InputKind.BagOfWords"/>): a vocabulary of V
/// words costs V x units weights there, V x embedding_dim here.
/// </summary>
public sealed class EmbeddingModel : nn.Module<Tensor, Tensor, Tensor>
{
    public static IReadOnlyList<string> Encoders { get; } = ["mean", "max", "gru", "lstm"];

    private readonly Embedding embedding;
    private readonly RecurrentEncoder? encoder;
    private readonly Dropout dropout;
    private readonly Sequential dense;
    private readonly string _pooling;

    public EmbeddingModel(ModelInput input, ConfigReader read)
        : base("embedding")
    {
        if (input.Kind != InputKind.Tokens)
        {
            throw new ConfigException("model", "embedding takes token sequences");
        }

        var dimensions = read.Integer("embedding_dim", 64, 1, 4096);
        _pooling = read.Choice("encoder", "mean", Encoders);
        embedding = nn.Embedding(input.Features, dimensions, padding_idx: 0);
        var p = read.Probability("dropout", 0);
        long width = dimensions;
        if (_pooling is "gru" or "lstm")
        {
            encoder = new RecurrentEncoder(_pooling, dimensions, read.Integer("hidden_size", 64, 1, 8192), read.Integer("num_layers", 1, 1, 8), p, read.Boolean("bidirectional", false));
            width = encoder.Width;
        }

        dropout = nn.Dropout(p);
        dense = DenseStack.Build(width, DenseStack.Widths(read, "dense_layers", 0, 8), read.Choice("activation", "relu", DenseStack.Activations), p, false, input.Classes);
        RegisterComponents();
    }

    /// <summary>The learned vectors, one row per vocabulary index.</summary>
    public float[,] Vectors()
    {
        using var weight = embedding.weight!.detach().cpu();
        var values = weight.data<float>().ToArray();
        var (rows, columns) = ((int)weight.shape[0], (int)weight.shape[1]);
        var vectors = new float[rows, columns];
        Buffer.BlockCopy(values, 0, vectors, 0, values.Length * sizeof(float));
        return vectors;
    }

    public override Tensor forward(Tensor input, Tensor lengths)
    {
        var vectors = embedding.call(input);
        var encoded = _pooling switch
        {
            "mean" => DenseStack.MeanMaxPool(vectors, lengths).narrow(1, 0, vectors.shape[2]),
            "max" => DenseStack.MeanMaxPool(vectors, lengths).narrow(1, vectors.shape[2], vectors.shape[2]),
            _ => encoder!.call(vectors, lengths),
        };
        return dense.call(dropout.call(encoded));
    }
}
