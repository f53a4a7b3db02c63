using TorchSharp.Modules;
using Tuner.Training.Configuration;
using static TorchSharp.torch;

namespace Tuner.Training.Models;

/// <summary>
/// A recurrent classifier, the course's GRU: <c>cell</c> (gru or lstm), <c>hidden_size</c>,
/// <c>num_layers</c>, <c>dropout</c> between layers, <c>bidirectional</c>; the last hidden state
/// goes through <c>dense_layers</c> (default none) to the classes.
/// </summary>
public sealed class RecurrentModel : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly RecurrentEncoder encoder;
    private readonly Sequential dense;

    public RecurrentModel(ModelInput input, ConfigReader read)
        : base("rnn")
    {
        if (input.Kind != InputKind.Sequence)
        {
            throw new ConfigException("model", "rnn takes feature sequences; for text use embedding with encoder gru or lstm");
        }

        var dropout = read.Probability("dropout", 0);
        encoder = new RecurrentEncoder(
            read.Choice("cell", "gru", RecurrentEncoder.Cells),
            input.Features,
            read.Integer("hidden_size", 64, 1, 8192),
            read.Integer("num_layers", 1, 1, 16),
            dropout,
            read.Boolean("bidirectional", false));
        dense = DenseStack.Build(encoder.Width, DenseStack.Widths(read, "dense_layers", 0, 8), read.Choice("activation", "relu", DenseStack.Activations), dropout, false, input.Classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input, Tensor lengths) => dense.call(encoder.call(input, lengths));
}
