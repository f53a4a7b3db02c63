using Tuner.Training.Models.Pretrained.Onnx;
using static TorchSharp.torch;

namespace Tuner.Training.Models.Pretrained;

/// <summary>
/// Reads a basic-block ResNet out of an ONNX graph by its structure, not its tensor names (an export
/// from CNTK names everything <c>ParameterNN</c>): from the input, the stem's Conv, BatchNormalization,
/// Relu and MaxPool; then block after block, the main branch (Conv, BN, Relu, Conv, BN) into an Add whose
/// other input is the block's input (identity) or a 1x1 Conv and BN of it (projection); a stage starts at
/// each projection; the average pool ends it. Every convolution's padding comes from its <c>pads</c>.
/// Anything else in the graph is an error naming the node.
/// </summary>
public static class ResNetOnnxImporter
{
    private const double BatchNormEpsilon = 1e-5;

    /// <summary>A ResNet with the graph's shape and weights, in evaluation mode.</summary>
    public static ResNet Load(string path)
    {
        var graph = OnnxGraph.Load(path);
        var (spec, weights) = Read(graph);
        var model = new ResNet(spec);
        try
        {
            var tensors = weights.ToDictionary(w => w.Key, w => tensor(w.Value.Values, w.Value.Dims), StringComparer.Ordinal);
            try
            {
                model.LoadWeights(tensors, graph.Source);
            }
            finally
            {
                foreach (var t in tensors.Values)
                {
                    t.Dispose();
                }
            }

            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The architecture and the weights by torchvision's names.</summary>
    internal static (ResNetSpec Spec, IReadOnlyDictionary<string, (float[] Values, long[] Dims)> Weights) Read(OnnxGraph graph)
    {
        var weights = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal);
        var walk = new Walk(graph);
        var input = graph.Inputs.Count == 1 ? graph.Inputs[0] : throw graph.Error($"expected one input, found {graph.Inputs.Count}: {string.Join(", ", graph.Inputs)}");

        var stem = walk.Only(input, "Conv");
        var stemPadding = walk.Convolution(stem, 7, 2, weights, "conv1");
        var pool = walk.Next(walk.Next(walk.BatchNorm(walk.Next(stem, "BatchNormalization"), weights, "bn1"), "Relu"), "MaxPool");
        if (pool.Ints("kernel_shape") is not [3, 3] || pool.Ints("strides") is not [2, 2])
        {
            throw graph.Error($"{pool.Describe()}: expected a 3x3 max pool of stride 2");
        }

        var blocks = new List<(ResidualBlockSpec Spec, Dictionary<string, (float[], long[])> Weights)>();
        var x = pool.Output[0];
        while (!graph.ConsumersOf(x).Any(n => n.OpType is "AveragePool" or "GlobalAveragePool"))
        {
            var blockWeights = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal);
            var convs = graph.ConsumersOf(x).Where(n => n.OpType == "Conv").ToList();
            var first = convs.SingleOrDefault(c => c.Ints("kernel_shape") is [3, 3]) ?? throw graph.Error($"{x}: expected a block's 3x3 convolution to read it, found {Names(graph.ConsumersOf(x))}");
            var stride = (int)first.Ints("strides", 1, 1)[0];
            var padding = walk.Convolution(first, 3, stride, blockWeights, "conv1");
            var second = walk.Next(walk.Next(walk.BatchNorm(walk.Next(first, "BatchNormalization"), blockWeights, "bn1"), "Relu"), "Conv");
            walk.Convolution(second, 3, 1, blockWeights, "conv2");
            var mainBranch = walk.BatchNorm(walk.Next(second, "BatchNormalization"), blockWeights, "bn2");
            var add = walk.Next(mainBranch, "Add");
            var shortcut = add.Input.Single(i => i != mainBranch.Output[0]);
            var projection = shortcut != x;
            if (projection)
            {
                var bn = graph.ProducerOf(shortcut) is { OpType: "BatchNormalization" } b ? b : throw graph.Error($"{add.Describe()}: its shortcut {shortcut} is neither the block's input {x} nor a batch norm");
                var conv = graph.ProducerOf(bn.Input[0]) is { OpType: "Conv" } c && c.Input[0] == x ? c : throw graph.Error($"{bn.Describe()}: expected a 1x1 convolution of {x} before it");
                walk.Convolution(conv, 1, stride, blockWeights, "downsample.0");
                walk.BatchNorm(bn, blockWeights, "downsample.1");
            }

            var (_, firstDims) = graph.Initializer(first.Input[1]);
            blocks.Add((new ResidualBlockSpec((int)firstDims[1], (int)firstDims[0], stride, padding, projection), blockWeights));
            x = walk.Next(add, "Relu").Output[0];
        }

        // A stage starts where the shape changes (a projection); the first stage at the first block.
        var stages = new List<List<ResidualBlockSpec>>();
        foreach (var (block, blockWeights) in blocks)
        {
            if (stages.Count == 0 || block.Projection)
            {
                stages.Add([]);
            }

            var name = $"layer{stages.Count}.{stages[^1].Count}";
            foreach (var (key, value) in blockWeights)
            {
                weights[$"{name}.{key}"] = value;
            }

            stages[^1].Add(block);
        }

        if (stages.Count != 4)
        {
            throw graph.Error($"expected 4 stages of residual blocks, found {stages.Count} (blocks per stage {string.Join(", ", stages.Select(s => s.Count))})");
        }

        return (new ResNetSpec(stemPadding, PadsOf(pool), [.. stages]), weights);
    }

    private static Padding PadsOf(NodeProto node) =>
        node.Ints("pads", 0, 0, 0, 0) is [var top, var left, var bottom, var right] ? new Padding((int)top, (int)left, (int)bottom, (int)right) : new Padding(0, 0, 0, 0);

    private static string Names(IEnumerable<NodeProto> nodes) => string.Join(", ", nodes.Select(n => n.Describe())) is { Length: > 0 } s ? s : "nothing";

    private static InvalidDataException Error(this OnnxGraph graph, string message) => new($"{graph.Source} is not a basic-block ResNet as expected: {message}");

    private sealed class Walk(OnnxGraph graph)
    {
        public NodeProto Only(string tensor, string op)
        {
            var consumers = graph.ConsumersOf(tensor);
            return consumers.Count == 1 && consumers[0].OpType == op ? consumers[0] : throw graph.Error($"{tensor}: expected one {op} to read it, found {Names(consumers)}");
        }

        public NodeProto Next(NodeProto node, string op) => Only(node.Output[0], op);

        /// <summary>Checks a Conv's kernel, stride and form; records its weight under <paramref name="name"/>; returns its padding.</summary>
        public Padding Convolution(NodeProto conv, int kernel, int stride, Dictionary<string, (float[], long[])> weights, string name)
        {
            if (conv.Ints("kernel_shape") is not [var kh, var kw] || kh != kernel || kw != kernel || conv.Ints("strides", 1, 1) is not [var sh, var sw] || sh != stride || sw != stride)
            {
                throw graph.Error($"{conv.Describe()}: expected a {kernel}x{kernel} convolution of stride {stride}, found kernel [{string.Join(", ", conv.Ints("kernel_shape"))}] strides [{string.Join(", ", conv.Ints("strides", 1, 1))}]");
            }

            if (conv.Int("group", 1) != 1 || conv.Ints("dilations", 1, 1) is not [1, 1] || conv.Input.Count != 2)
            {
                throw graph.Error($"{conv.Describe()}: expected no groups, no dilation and no bias");
            }

            weights[$"{name}.weight"] = graph.Initializer(conv.Input[1]);
            return PadsOf(conv);
        }

        public NodeProto BatchNorm(NodeProto bn, Dictionary<string, (float[], long[])> weights, string name)
        {
            var epsilon = bn.Float("epsilon", 1e-5f);
            if (Math.Abs(epsilon - BatchNormEpsilon) > 1e-9)
            {
                throw graph.Error($"{bn.Describe()}: epsilon {epsilon}, expected {BatchNormEpsilon}");
            }

            weights[$"{name}.weight"] = graph.Initializer(bn.Input[1]);
            weights[$"{name}.bias"] = graph.Initializer(bn.Input[2]);
            weights[$"{name}.running_mean"] = graph.Initializer(bn.Input[3]);
            weights[$"{name}.running_var"] = graph.Initializer(bn.Input[4]);
            return bn;
        }
    }
}
