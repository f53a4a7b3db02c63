using TorchSharp.Modules;
using Tuner.Training.Configuration;
using static TorchSharp.torch;

namespace Tuner.Training.Training;

/// <summary>The optimiser a trial's config names: <c>optimizer</c> sgd (with <c>momentum</c>), adam or adamw, with <c>weight_decay</c>.</summary>
public static class OptimizerFactory
{
    public static IReadOnlyList<string> Names { get; } = ["sgd", "adam", "adamw"];

    /// <summary>One parameter group per entry, each starting at <paramref name="lr"/> times its scale.</summary>
    public static OptimizerHelper Create(IReadOnlyList<(IReadOnlyList<Parameter> Parameters, double RateScale)> groups, ConfigReader read, double lr)
    {
        var name = read.Choice("optimizer", "adam", Names);

        // AdamW decays by default, as PyTorch's does; the others do not.
        var decay = read.NonNegative("weight_decay", name == "adamw" ? 0.01 : 0);
        return name switch
        {
            "sgd" => optim.SGD(groups.Select(g => new SGD.ParamGroup(g.Parameters, new SGD.Options { LearningRate = lr * g.RateScale })), lr, momentum: read.NonNegative("momentum", 0.9), weight_decay: decay),
            "adamw" => optim.AdamW(groups.Select(g => new AdamW.ParamGroup(g.Parameters, new AdamW.Options { LearningRate = lr * g.RateScale })), lr, weight_decay: decay),
            _ => optim.Adam(groups.Select(g => new Adam.ParamGroup(g.Parameters, new Adam.Options { LearningRate = lr * g.RateScale })), lr, weight_decay: decay),
        };
    }
}
