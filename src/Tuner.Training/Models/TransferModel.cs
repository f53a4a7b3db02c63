using TorchSharp.Modules;
using Tuner.Training.Configuration;
using Tuner.Training.Models.Pretrained;
using static TorchSharp.torch;

namespace Tuner.Training.Models;

/// <summary>A model whose parameters train at different rates: each group with its share of the scheduled learning rate.</summary>
public interface IParameterGroups
{
    IReadOnlyList<(IReadOnlyList<Parameter> Parameters, double RateScale)> ParameterGroups { get; }
}

/// <summary>
/// Transfer learning: a pretrained ResNet backbone, frozen but for its last <c>unfreeze</c> parts (0: none,
/// the features only; 1-4: that many residual stages from the top; 5: the stem too, full fine-tuning), and a new
/// head, an MLP of <c>dense_layers</c> x <c>units</c> with <c>dropout</c> to the classes. The head trains at
/// <c>lr</c>, the unfrozen backbone at <c>backbone_lr</c> (default lr / 10). Batch norm of frozen parts stays
/// in evaluation mode (their ImageNet statistics) while the rest trains. Without a backbone the model is
/// the head alone, trained on features computed beforehand (<see cref="InputKind.Features"/>).
/// </summary>
public sealed class TransferModel : nn.Module<Tensor, Tensor, Tensor>, IParameterGroups
{
    public const int MaxUnfreeze = 5;

    private readonly ResNet? backbone;
    private readonly Sequential head;
    private readonly PretrainedResNet? _pretrained;
    private readonly nn.Module[] _frozen;

    public TransferModel(PretrainedResNet? pretrained, int unfreeze, int features, int classes, ConfigReader read)
        : base("transfer")
    {
        var dropout = read.Probability("dropout", 0);
        head = DenseStack.Build(features, DenseStack.Widths(read, "dense_layers", 1, 8), read.Choice("activation", "relu", DenseStack.Activations), dropout, false, classes);
        var lr = read.Positive("lr", 1e-3);
        var backboneScale = read.Positive("backbone_lr", lr / 10) / lr;
        _pretrained = pretrained;
        if (pretrained is null)
        {
            _frozen = [];
            RegisterComponents();
            ParameterGroups = [([.. head.parameters()], 1.0)];
            return;
        }

        backbone = pretrained.Network;
        var parts = backbone.Parts;
        _frozen = [.. parts.Take(parts.Count - unfreeze).SelectMany(p => p)];
        var trained = parts.Skip(parts.Count - unfreeze).SelectMany(p => p).SelectMany(m => m.parameters()).ToList();
        foreach (var parameter in _frozen.SelectMany(m => m.parameters()))
        {
            parameter.requires_grad = false;
        }

        RegisterComponents();
        ParameterGroups = trained.Count == 0 ? [([.. head.parameters()], 1.0)] : [([.. head.parameters()], 1.0), (trained, backboneScale)];
    }

    public IReadOnlyList<(IReadOnlyList<Parameter> Parameters, double RateScale)> ParameterGroups { get; }

    public override void train(bool train = true)
    {
        base.train(train);
        foreach (var module in _frozen)
        {
            module.eval();
        }
    }

    public override Tensor forward(Tensor input, Tensor lengths) =>
        head.call(backbone is null ? input : backbone.call(_pretrained!.Preprocess(input)));
}
