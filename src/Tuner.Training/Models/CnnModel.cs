using TorchSharp.Modules;
using Tuner.Training.Configuration;
using static TorchSharp.torch;

namespace Tuner.Training.Models;

/// <summary>
/// A convolutional network, 1-D over a sequence's time steps or 2-D over an image: <c>conv_layers</c>
/// blocks of convolution (<c>filters</c>, <c>kernel</c>, same padding), optional <c>batch_norm</c>,
/// <c>activation</c> and <c>pooling</c> (max, avg or none, halving the size), then a global
/// max pool and <c>dense_layers</c> layers of <c>units</c> with <c>dropout</c>.
/// </summary>
public sealed class CnnModel : nn.Module<Tensor, Tensor, Tensor>
{
    public static IReadOnlyList<string> Poolings { get; } = ["max", "avg", "none"];

    private readonly Sequential features;
    private readonly Sequential dense;
    private readonly bool _image;

    public CnnModel(ModelInput input, ConfigReader read)
        : base("cnn")
    {
        _image = input.Kind switch
        {
            InputKind.Sequence => false,
            InputKind.Image => true,
            _ => throw new ConfigException("model", "cnn takes sequences (1-D) or images (2-D)"),
        };
        var layers = read.Integer("conv_layers", 2, 1, 12);
        var filters = read.Integer("filters", 32, 1, 4096);
        var kernel = read.Integer("kernel", 3, 1, 15);
        var pooling = read.Choice("pooling", "max", Poolings);
        var activation = read.Choice("activation", "relu", DenseStack.Activations);
        var batchNorm = read.Boolean("batch_norm", false);
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long channels = input.Features;
        for (var i = 0; i < layers; i++)
        {
            modules.Add(($"conv{i}", _image
                ? nn.Conv2d(channels, filters, kernel, padding: kernel / 2)
                : nn.Conv1d(channels, filters, kernel, padding: kernel / 2)));
            if (batchNorm)
            {
                modules.Add(($"norm{i}", _image ? nn.BatchNorm2d(filters) : nn.BatchNorm1d(filters)));
            }

            modules.Add(($"act{i}", DenseStack.Activation(activation)));
            if (pooling != "none")
            {
                modules.Add(($"pool{i}", (pooling, _image) switch
                {
                    ("max", true) => nn.MaxPool2d(2, ceil_mode: true),
                    ("max", false) => nn.MaxPool1d(2, ceil_mode: true),
                    (_, true) => nn.AvgPool2d(2, ceil_mode: true),
                    _ => nn.AvgPool1d(2, ceil_mode: true),
                }));
            }

            channels = filters;
        }

        features = nn.Sequential(modules);
        dense = DenseStack.Build(channels, DenseStack.Widths(read, "dense_layers", 1, 8), activation, read.Probability("dropout", 0), batchNorm, input.Classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input, Tensor lengths)
    {
        // Sequences arrive [batch, time, features]; convolutions want channels first.
        var x = features.call(_image ? input : input.transpose(1, 2));
        return dense.call(x.flatten(2).amax([2]));
    }
}
