using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuner.Training.Models.Pretrained;

/// <summary>Zero padding around a convolution's or pooling's input, in ONNX's order: top, left, bottom, right.</summary>
public readonly record struct Padding(int Top, int Left, int Bottom, int Right)
{
    public static Padding Same(int p) => new(p, p, p, p);

    public bool Symmetric => Top == Left && Left == Bottom && Bottom == Right;

    /// <summary>As torch's <c>pad</c> takes it: last dimension first (left, right, top, bottom).</summary>
    internal long[] ForPad => [Left, Right, Top, Bottom];

    public override string ToString() => $"(top {Top}, left {Left}, bottom {Bottom}, right {Right})";
}

/// <summary>A basic residual block: two 3x3 convolutions; a 1x1 projection on the shortcut when the shape changes.</summary>
public sealed record ResidualBlockSpec(int InChannels, int OutChannels, int Stride, Padding FirstPadding, bool Projection);

/// <summary>
/// The shape of a basic-block ResNet: the stem (7x7 convolution, batch norm, ReLU, 3x3 max pool) with its
/// padding, and the residual blocks of each stage. torchvision's ResNet-18 pads symmetrically and has two
/// blocks per stage; the ImageNet ResNet-18 exported from CNTK pads asymmetrically and has 2, 2, 2, 3.
/// </summary>
public sealed record ResNetSpec(Padding StemPadding, Padding PoolPadding, IReadOnlyList<IReadOnlyList<ResidualBlockSpec>> Stages)
{
    public int Features => Stages[^1][^1].OutChannels;

    /// <summary>torchvision's <c>resnet18</c> (<c>resnet34</c> with 3, 4, 6, 3) without its classifier.</summary>
    public static ResNetSpec Torchvision(params int[] blocksPerStage)
    {
        var stages = new List<IReadOnlyList<ResidualBlockSpec>>();
        var channels = 64;
        for (var s = 0; s < blocksPerStage.Length; s++)
        {
            var width = 64 << s;
            var blocks = new List<ResidualBlockSpec>();
            for (var b = 0; b < blocksPerStage[s]; b++)
            {
                var stride = b == 0 && s > 0 ? 2 : 1;
                blocks.Add(new ResidualBlockSpec(channels, width, stride, Padding.Same(1), stride != 1 || channels != width));
                channels = width;
            }

            stages.Add(blocks);
        }

        return new ResNetSpec(Padding.Same(3), Padding.Same(1), stages);
    }

    public override string ToString() =>
        $"ResNet, blocks per stage {string.Join(", ", Stages.Select(s => s.Count))}, stem padding {StemPadding}, pool padding {PoolPadding}, {Features} features";
}

/// <summary>
/// A basic-block ResNet without its classifier, named as torchvision names it (<c>conv1</c>, <c>bn1</c>,
/// <c>layer1.0.conv1</c>, ..., <c>layer4.1.downsample.0</c>), so PyTorch state dicts load by name. Its output is
/// the globally average-pooled feature vector, <c>[batch, features]</c>. Asymmetric padding is applied
/// explicitly before the convolution or pooling that needs it.
/// </summary>
public sealed class ResNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ModuleList<BasicBlock> layer1;
    private readonly ModuleList<BasicBlock> layer2;
    private readonly ModuleList<BasicBlock> layer3;
    private readonly ModuleList<BasicBlock> layer4;
    private readonly Padding _stemPadding;
    private readonly Padding _poolPadding;

    public ResNet(ResNetSpec spec)
        : base("resnet")
    {
        if (spec.Stages.Count != 4)
        {
            throw new ArgumentException($"a ResNet has 4 stages, the spec has {spec.Stages.Count}", nameof(spec));
        }

        Spec = spec;
        _stemPadding = spec.StemPadding;
        _poolPadding = spec.PoolPadding;
        conv1 = nn.Conv2d(3, spec.Stages[0][0].InChannels, 7, stride: 2, padding: _stemPadding.Symmetric ? _stemPadding.Top : 0, bias: false);
        bn1 = nn.BatchNorm2d(spec.Stages[0][0].InChannels);
        layer1 = Stage(spec.Stages[0]);
        layer2 = Stage(spec.Stages[1]);
        layer3 = Stage(spec.Stages[2]);
        layer4 = Stage(spec.Stages[3]);
        RegisterComponents();
    }

    public ResNetSpec Spec { get; }

    /// <summary>The stem (<c>conv1</c>, <c>bn1</c>) and the four stages, input side first: what freezing works on.</summary>
    public IReadOnlyList<nn.Module[]> Parts => [[conv1, bn1], [layer1], [layer2], [layer3], [layer4]];

    public override Tensor forward(Tensor input)
    {
        // Each step frees what it made as soon as the next has its input (autograd keeps what backward needs):
        // held to the end of the batch, the activations of 32 photos take gigabytes.
        var x = Step(input, owned: false, x =>
        {
            x = nn.functional.relu(bn1.call(conv1.call(_stemPadding.Symmetric ? x : nn.functional.pad(x, _stemPadding.ForPad))));
            return _poolPadding.Symmetric
                ? nn.functional.max_pool2d(x, 3, 2, _poolPadding.Top)
                : nn.functional.max_pool2d(nn.functional.pad(x, _poolPadding.ForPad, value: double.NegativeInfinity), 3, 2);
        });
        foreach (var stage in new[] { layer1, layer2, layer3, layer4 })
        {
            foreach (var block in stage)
            {
                x = Step(x, owned: true, block.call);
            }
        }

        return Step(x, owned: true, x => nn.functional.adaptive_avg_pool2d(x, 1).flatten(1));
    }

    /// <summary>Runs one step in a dispose scope of its own, keeping its output; frees its input when this module made it.</summary>
    private static Tensor Step(Tensor input, bool owned, Func<Tensor, Tensor> step)
    {
        Tensor output;
        using (NewDisposeScope())
        {
            output = step(input).MoveToOuterDisposeScope();
        }

        if (owned)
        {
            input.Dispose();
        }

        return output;
    }

    /// <summary>Copies weights by name onto the module's parameters and buffers; every one must be covered, shapes equal.</summary>
    public void LoadWeights(IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var targets = named_parameters().Select(p => (p.name, (Tensor)p.parameter))
            .Concat(named_buffers().Where(b => !b.name.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Select(b => (b.name, b.buffer)))
            .ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
        var missing = targets.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"{source}: no weights for {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? $" and {missing.Count - 5} more" : "")}");
        }

        using var noGrad = no_grad();
        foreach (var (name, target) in targets)
        {
            var value = weights[name];
            if (!target.shape.SequenceEqual(value.shape))
            {
                throw new InvalidDataException($"{source}: {name} is [{string.Join(", ", value.shape)}], the module's is [{string.Join(", ", target.shape)}]");
            }

            target.copy_(value);
        }
    }

    private static ModuleList<BasicBlock> Stage(IReadOnlyList<ResidualBlockSpec> blocks) => new([.. blocks.Select(b => new BasicBlock(b))]);

    /// <summary>torchvision's <c>BasicBlock</c>: conv1, bn1, relu, conv2, bn2, plus the shortcut (<c>downsample</c>), relu.</summary>
    public sealed class BasicBlock : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1;
        private readonly BatchNorm2d bn1;
        private readonly Conv2d conv2;
        private readonly BatchNorm2d bn2;
        private readonly Sequential? downsample;
        private readonly Padding _padding;

        public BasicBlock(ResidualBlockSpec spec)
            : base("block")
        {
            _padding = spec.FirstPadding;
            conv1 = nn.Conv2d(spec.InChannels, spec.OutChannels, 3, stride: spec.Stride, padding: _padding.Symmetric ? _padding.Top : 0, bias: false);
            bn1 = nn.BatchNorm2d(spec.OutChannels);
            conv2 = nn.Conv2d(spec.OutChannels, spec.OutChannels, 3, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(spec.OutChannels);
            if (spec.Projection)
            {
                downsample = nn.Sequential(nn.Conv2d(spec.InChannels, spec.OutChannels, 1, stride: spec.Stride, bias: false), nn.BatchNorm2d(spec.OutChannels));
            }

            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            var x = conv1.call(_padding.Symmetric ? input : nn.functional.pad(input, _padding.ForPad));
            x = nn.functional.relu(bn1.call(x));
            x = bn2.call(conv2.call(x));
            return nn.functional.relu(x + (downsample is null ? input : downsample.call(input)));
        }
    }
}
