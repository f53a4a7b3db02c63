using TorchSharp;
using TorchSharp.Modules;
using Tuner.Training.Configuration;
using static TorchSharp.torch;

namespace Tuner.Training.Models;

/// <summary>
/// The dense part every family ends with: hidden blocks of Linear, optional batch norm, activation and
/// dropout, then a linear layer to the classes. Every hidden layer has <c>units</c> outputs unless
/// <c>units_k</c> sets layer k's (1 for the first): the conditional space's "units of layer k when
/// layers >= k".
/// </summary>
internal static class DenseStack
{
    public static IReadOnlyList<string> Activations { get; } = ["relu", "gelu", "tanh", "leaky_relu"];

    /// <summary>The hidden layers' widths: <paramref name="layersKey"/> layers of <c>units</c>, or <c>units_k</c> for layer k.</summary>
    public static int[] Widths(ConfigReader read, string layersKey, int defaultLayers, int maxLayers)
    {
        var layers = read.Integer(layersKey, defaultLayers, 0, maxLayers);
        var units = read.Integer("units", 64, 1, 65536);
        return [.. Enumerable.Range(1, layers).Select(k => read.Integer($"units_{k}", units, 1, 65536))];
    }

    public static Sequential Build(long inputs, IReadOnlyList<int> widths, string activation, double dropout, bool batchNorm, int classes)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        var width = inputs;
        for (var i = 0; i < widths.Count; i++)
        {
            var units = widths[i];
            modules.Add(($"linear{i}", nn.Linear(width, units)));
            if (batchNorm)
            {
                modules.Add(($"norm{i}", nn.BatchNorm1d(units)));
            }

            modules.Add(($"act{i}", Activation(activation)));
            if (dropout > 0)
            {
                modules.Add(($"dropout{i}", nn.Dropout(dropout)));
            }

            width = units;
        }

        modules.Add(("output", nn.Linear(width, classes)));
        return nn.Sequential(modules);
    }

    public static nn.Module<Tensor, Tensor> Activation(string name) => name switch
    {
        "relu" => nn.ReLU(),
        "gelu" => nn.GELU(),
        "tanh" => nn.Tanh(),
        "leaky_relu" => nn.LeakyReLU(0.01),
        _ => throw new ConfigException("activation", $"'{name}' is not one of the allowed values: {string.Join(", ", Activations)}"),
    };

    /// <summary>The mean and the maximum over each sequence's valid steps: <c>[batch, time, f]</c> to <c>[batch, 2f]</c>.</summary>
    public static Tensor MeanMaxPool(Tensor sequence, Tensor lengths)
    {
        // Scalars made and disposed here, not implicitly: see NativeScalars.
        using var zero = 0.ToScalar();
        using var one = 1.ToScalar();
        using var lowest = float.NegativeInfinity.ToScalar();
        var time = sequence.shape[1];
        var mask = arange(time, device: sequence.device).unsqueeze(0).lt(lengths.to(sequence.device).unsqueeze(1)).unsqueeze(2);
        var padding = mask.logical_not();
        var mean = sequence.masked_fill(padding, zero).sum(1).div(lengths.to(sequence.device).clamp_min(one).unsqueeze(1).to(sequence.dtype));
        var max = sequence.masked_fill(padding, lowest).amax([1]);
        return cat([mean, max], 1);
    }
}
