using TorchSharp;
using Tuner.Core.Space;
using Tuner.Training.Configuration;
using static TorchSharp.torch;

namespace Tuner.Training.Models;

/// <summary>Builds the model family a trial's <c>model</c> key names, shaped to the task's input.</summary>
public static class ModelFactory
{
    /// <summary>The families: mlp, cnn, rnn and embedding (the bag-of-words baseline is mlp on one-hot input).</summary>
    public static IReadOnlyList<string> Families { get; } = ["mlp", "cnn", "rnn", "embedding"];

    public static nn.Module<Tensor, Tensor, Tensor> Create(string family, ModelInput input, TrialConfig config)
    {
        var read = new ConfigReader(config);
        return family switch
        {
            "mlp" => new MlpModel(input, read),
            "cnn" => new CnnModel(input, read),
            "rnn" => new RecurrentModel(input, read),
            "embedding" => new EmbeddingModel(input, read),
            _ => throw new ConfigException("model", $"'{family}' is not one of the allowed values: {string.Join(", ", Families)}"),
        };
    }

    /// <summary>The number of trainable weights.</summary>
    public static long ParameterCount(this nn.Module module) =>
        module.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
}
