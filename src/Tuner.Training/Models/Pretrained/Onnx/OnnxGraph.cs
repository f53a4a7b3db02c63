using Google.Protobuf;

namespace Tuner.Training.Models.Pretrained.Onnx;

/// <summary>
/// An ONNX model's graph read for its structure: nodes by the tensors they produce and consume, and the
/// float initializers (weights) by name. Parsed from the protobuf with the subset in <c>onnx.proto</c>.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly Dictionary<string, TensorProto> _initializers;
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);

    private OnnxGraph(string source, ModelProto model)
    {
        Source = source;
        var graph = model.Graph ?? throw new InvalidDataException($"{source} holds no graph");
        Nodes = graph.Node;
        _initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Inputs = [.. graph.Input.Select(i => i.Name).Where(n => !_initializers.ContainsKey(n))];
        Outputs = [.. graph.Output.Select(o => o.Name)];
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output)
            {
                _producers[output] = node;
            }

            foreach (var input in node.Input)
            {
                if (!_consumers.TryGetValue(input, out var list))
                {
                    _consumers[input] = list = [];
                }

                list.Add(node);
            }
        }
    }

    /// <summary>The file the graph came from, for messages.</summary>
    public string Source { get; }

    public IReadOnlyList<NodeProto> Nodes { get; }

    /// <summary>The graph's real inputs (not initializers).</summary>
    public IReadOnlyList<string> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    public static OnnxGraph Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var parser = new MessageParser<ModelProto>(() => new ModelProto()).WithDiscardUnknownFields(true);
            return new OnnxGraph(path, parser.ParseFrom(CodedInputStream.CreateWithLimits(stream, int.MaxValue, 100)));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"{path} is not an ONNX model: {ex.Message}", ex);
        }
    }

    /// <summary>The nodes that read <paramref name="tensor"/>.</summary>
    public IReadOnlyList<NodeProto> ConsumersOf(string tensor) => _consumers.TryGetValue(tensor, out var list) ? list : [];

    /// <summary>The node that writes <paramref name="tensor"/>; null for inputs and initializers.</summary>
    public NodeProto? ProducerOf(string tensor) => _producers.GetValueOrDefault(tensor);

    /// <summary>The float initializer <paramref name="name"/>: its values and dimensions.</summary>
    public (float[] Values, long[] Dims) Initializer(string name)
    {
        var tensor = _initializers.GetValueOrDefault(name) ?? throw new InvalidDataException($"{Source}: no initializer {name}");
        const int Float = 1;
        if (tensor.DataType != Float)
        {
            throw new InvalidDataException($"{Source}: initializer {name} has ONNX type {tensor.DataType}, expected 1 (float)");
        }

        var dims = tensor.Dims.ToArray();
        var count = dims.Aggregate(1L, (a, d) => a * d);
        float[] values;
        if (tensor.RawData.Length > 0)
        {
            values = new float[tensor.RawData.Length / sizeof(float)];
            Buffer.BlockCopy(tensor.RawData.ToByteArray(), 0, values, 0, values.Length * sizeof(float));
        }
        else
        {
            values = [.. tensor.FloatData];
        }

        return values.Length == count
            ? (values, dims)
            : throw new InvalidDataException($"{Source}: initializer {name} has {values.Length} values for dimensions [{string.Join(", ", dims)}]");
    }
}

/// <summary>Reading a node's attributes.</summary>
internal static class OnnxNodeExtensions
{
    public static long[] Ints(this NodeProto node, string name, params long[] fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? [.. a.Ints] : fallback;

    public static float Float(this NodeProto node, string name, float fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;

    public static long Int(this NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    public static string Describe(this NodeProto node) =>
        $"{node.OpType} {(string.IsNullOrEmpty(node.Name) ? string.Join(",", node.Output) : node.Name)}";
}
