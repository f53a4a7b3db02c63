using TorchSharp.Modules;
using Tuner.Training.Configuration;
using static TorchSharp.torch;

namespace Tuner.Training.Models;

/// <summary>
/// A multi-layer perceptron: <c>layers</c> hidden layers of <c>units</c> with <c>activation</c>,
/// <c>dropout</c> and optional <c>batch_norm</c>. Sequences enter as the mean and maximum of their
/// steps; images flattened; a bag of words as it is (the one-hot baseline for text).
/// </summary>
public sealed class MlpModel : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Sequential dense;
    private readonly InputKind _kind;

    public MlpModel(ModelInput input, ConfigReader read)
        : base("mlp")
    {
        _kind = input.Kind;
        long inputs = input.Kind switch
        {
            InputKind.Sequence => 2L * input.Features,
            InputKind.BagOfWords => input.Features,
            InputKind.Image => (long)input.Features * input.Height * input.Width,
            _ => throw new ConfigException("model", "mlp takes sequences, images or a bag of words; for token sequences use embedding"),
        };
        dense = DenseStack.Build(
            inputs,
            DenseStack.Widths(read, "layers", 2, 16),
            read.Choice("activation", "relu", DenseStack.Activations),
            read.Probability("dropout", 0),
            read.Boolean("batch_norm", false),
            input.Classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input, Tensor lengths) => _kind switch
    {
        InputKind.Sequence => dense.call(DenseStack.MeanMaxPool(input, lengths)),
        InputKind.Image => dense.call(input.flatten(1)),
        _ => dense.call(input),
    };
}
