using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuner.Training.Models;

/// <summary>
/// A GRU or LSTM over padded sequences that returns, per sequence, the hidden state after its last
/// real step: <c>[batch, hidden x directions]</c>. One direction reads the output at each length;
/// two directions pack the batch, so the backward pass starts at the real end, not in the padding.
/// </summary>
internal sealed class RecurrentEncoder : nn.Module<Tensor, Tensor, Tensor>
{
    public static IReadOnlyList<string> Cells { get; } = ["gru", "lstm"];

    private readonly GRU? gru;
    private readonly LSTM? lstm;
    private readonly bool _bidirectional;

    public RecurrentEncoder(string cell, long inputs, int hidden, int layers, double dropout, bool bidirectional)
        : base("encoder")
    {
        // PyTorch applies dropout between stacked layers only.
        var between = layers > 1 ? dropout : 0;
        if (cell == "lstm")
        {
            lstm = nn.LSTM(inputs, hidden, layers, batchFirst: true, dropout: between, bidirectional: bidirectional);
        }
        else
        {
            gru = nn.GRU(inputs, hidden, layers, batchFirst: true, dropout: between, bidirectional: bidirectional);
        }

        _bidirectional = bidirectional;
        Width = hidden * (bidirectional ? 2 : 1);
        RegisterComponents();
    }

    public long Width { get; }

    public override Tensor forward(Tensor input, Tensor lengths)
    {
        if (!_bidirectional)
        {
            var output = gru is not null ? gru.call(input).Item1 : lstm!.call(input).Item1;
            using var one = 1.ToScalar();
            using var zero = 0.ToScalar();
            var last = lengths.to(input.device).sub(one).clamp_min(zero).view(-1, 1, 1).expand(-1, 1, output.shape[2]);
            return output.gather(1, last).squeeze(1);
        }

        var packed = nn.utils.rnn.pack_padded_sequence(input, lengths.cpu(), batch_first: true, enforce_sorted: false);
        var hidden = gru is not null ? gru.call(packed).Item2 : lstm!.call(packed).Item2;

        // [layers x 2, batch, hidden]: the last layer's forward and backward states.
        return cat([hidden[-2], hidden[-1]], 1);
    }
}
