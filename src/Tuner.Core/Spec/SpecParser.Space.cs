using System.Globalization;
using Tuner.Core.Space;
using Tuner.Core.Trainables;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tuner.Core.Spec;

// The search space, its conditions and sampling domains, and the trainable's fixed params.
public sealed partial class SpecParser
{
    /// <summary><c>search.points_to_evaluate</c>: a list of configs.</summary>
    private IReadOnlyList<TrialConfig> Points(Dictionary<string, YamlNode> fields, string path)
    {
        if (!fields.TryGetValue(path, out var node) || IsNull(node))
        {
            return [];
        }

        if (node is not YamlSequenceNode list)
        {
            Error(path, node, $"expected a list of configs such as [{{ x1: 1.5, x2: 3 }}], got {Describe(node)}");
            return [];
        }

        return [.. list.Children.Select((item, i) => Params(item, $"{path}[{i}]", declare: false))];
    }

    /// <summary><c>search.evaluated</c>: a list of <c>{ config: {...}, metrics: {...} }</c>.</summary>
    private IReadOnlyList<EvaluatedPoint> Evaluated(Dictionary<string, YamlNode> fields, string path)
    {
        if (!fields.TryGetValue(path, out var node) || IsNull(node))
        {
            return [];
        }

        if (node is not YamlSequenceNode list)
        {
            Error(path, node, $"expected a list of {{ config: {{...}}, metrics: {{...}} }}, got {Describe(node)}");
            return [];
        }

        var points = new List<EvaluatedPoint>();
        for (var i = 0; i < list.Children.Count; i++)
        {
            var itemPath = $"{path}[{i}]";
            if (list.Children[i] is not YamlMappingNode item)
            {
                Error(itemPath, list.Children[i], $"expected {{ config: {{...}}, metrics: {{...}} }}, got {Describe(list.Children[i])}");
                continue;
            }

            var f = Fields(item, itemPath, ["config", "metrics"]);
            foreach (var required in new[] { "config", "metrics" })
            {
                if (!f.ContainsKey($"{itemPath}.{required}"))
                {
                    _errors.Add(new SpecError($"{itemPath}.{required}", "is required"));
                }
            }

            var config = f.TryGetValue($"{itemPath}.config", out var c) ? Params(c, $"{itemPath}.config", declare: false) : TrialConfig.Empty;
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            if (f.TryGetValue($"{itemPath}.metrics", out var m))
            {
                if (m is not YamlMappingNode mapping)
                {
                    Error($"{itemPath}.metrics", m, $"expected a mapping of metric: number, got {Describe(m)}");
                }
                else
                {
                    foreach (var (keyNode, valueNode) in mapping.Children)
                    {
                        var name = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
                        if (TryNumber(valueNode, out var value) && double.IsFinite(value))
                        {
                            metrics[name] = value;
                        }
                        else
                        {
                            Error($"{itemPath}.metrics.{name}", valueNode, $"expected a finite number, got {Describe(valueNode)}");
                        }
                    }
                }
            }

            points.Add(new EvaluatedPoint(config, metrics));
        }

        return points;
    }

    private TrialConfig Params(YamlNode node, string path, bool declare = true)
    {
        if (IsNull(node))
        {
            return TrialConfig.Empty;
        }

        if (node is not YamlMappingNode mapping)
        {
            Error(path, node, $"expected a mapping of name: value, got {Describe(node)}");
            return TrialConfig.Empty;
        }

        var items = new List<KeyValuePair<string, ParamValue>>();
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
            var itemPath = $"{path}.{key}";
            _lines[itemPath] = (int)keyNode.Start.Line;
            if (declare)
            {
                _declaredParameters.Add(key);
            }

            if (items.Any(i => i.Key == key))
            {
                Error(itemPath, keyNode, $"'{key}' is given twice");
                continue;
            }

            if (Scalar(valueNode, itemPath) is { } value)
            {
                items.Add(new(key, value));
            }
        }

        return new TrialConfig(items);
    }

    private SearchSpace ParseSpace(YamlNode node)
    {
        var space = new SearchSpace();
        if (IsNull(node))
        {
            return space;
        }

        if (node is not YamlMappingNode mapping)
        {
            Error("space", node, $"expected a mapping of name: {{ primitive: [arguments] }}, got {Describe(node)}");
            return space;
        }

        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
            var path = $"space.{name}";
            _lines[path] = (int)keyNode.Start.Line;
            _declaredParameters.Add(name);
            if (space.Contains(name))
            {
                Error(path, keyNode, $"'{name}' is given twice");
                continue;
            }

            // when: { parent: ... } beside the primitive makes the dimension conditional.
            Condition? when = null;
            var domainNode = valueNode;
            if (valueNode is YamlMappingNode { Children.Count: 2 } withWhen && withWhen.Children.Keys.OfType<YamlScalarNode>().Any(k => k.Value == "when"))
            {
                var whenEntry = withWhen.Children.First(c => (c.Key as YamlScalarNode)?.Value == "when");
                when = ParseCondition(whenEntry.Value, $"{path}.when");
                domainNode = new YamlMappingNode(withWhen.Children.Where(c => c.Key != whenEntry.Key));
            }

            if (ParseDomain(domainNode, path) is { } domain)
            {
                space.Add(name, domain, when);
            }
        }

        return space;
    }

    /// <summary><c>{ parent: value }</c>, <c>{ parent: [values] }</c> or <c>{ parent: { min: a, max: b } }</c>.</summary>
    private Condition? ParseCondition(YamlNode node, string path)
    {
        const string Usage = "{ parent: value }, { parent: [values] } or { parent: { min: low, max: high } }";
        _lines[path] = (int)node.Start.Line;
        if (node is not YamlMappingNode { Children.Count: 1 } mapping || mapping.Children.First().Key is not YamlScalarNode { Value: { Length: > 0 } parent })
        {
            Error(path, node, $"expected one earlier dimension and the values that activate this one: {Usage}; got {Describe(node)}");
            return null;
        }

        var valuesNode = mapping.Children.First().Value;
        switch (valuesNode)
        {
            case YamlSequenceNode sequence when sequence.Children.Count > 0:
                var values = sequence.Children.Select((v, i) => Scalar(v, $"{path}.{parent}[{i}]")).ToList();
                return values.Any(v => v is null) ? null : Condition.In(parent, [.. values.Select(v => v!.Value)]);
            case YamlMappingNode range:
                var fields = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
                foreach (var (k, v) in range.Children)
                {
                    var key = (k as YamlScalarNode)?.Value ?? string.Empty;
                    if (key is not ("min" or "max"))
                    {
                        Error($"{path}.{parent}", k, $"unknown key '{key}'; allowed: min, max");
                        return null;
                    }

                    fields[$"{path}.{parent}.{key}"] = v;
                }

                var min = Double(fields, $"{path}.{parent}.min");
                var max = Double(fields, $"{path}.{parent}.max");
                if (min is null && max is null)
                {
                    Error($"{path}.{parent}", range, "expected min, max or both");
                    return null;
                }

                return Condition.Between(parent, min, max);
            case YamlScalarNode when !IsNull(valuesNode):
                return Scalar(valuesNode, $"{path}.{parent}") is { } one ? Condition.In(parent, one) : null;
            default:
                Error($"{path}.{parent}", valuesNode, $"expected a value, a list of values or {{ min, max }}: {Usage}; got {Describe(valuesNode)}");
                return null;
        }
    }

    private Domain? ParseDomain(YamlNode node, string path)
    {
        if (node is not YamlMappingNode { Children.Count: 1 } mapping)
        {
            Error(path, node, $"expected one primitive such as {{ uniform: [low, high] }} (allowed: {string.Join(", ", Primitives)}), got {Describe(node)}; fixed values go under params");
            return null;
        }

        var (keyNode, argsNode) = mapping.Children.First();
        var primitive = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
        var argPath = $"{path}.{primitive}";
        _lines[argPath] = (int)keyNode.Start.Line;
        if (!Primitives.Contains(primitive))
        {
            Error(argPath, keyNode, $"unknown primitive '{primitive}'{Suggest(primitive, Primitives)}; allowed: {string.Join(", ", Primitives)}");
            return null;
        }

        if (argsNode is not YamlSequenceNode sequence)
        {
            Error(argPath, argsNode, $"expected a list of arguments, got {Describe(argsNode)}");
            return null;
        }

        var args = sequence.Children;
        switch (primitive)
        {
            case "choice":
            case "grid":
                var values = new List<ParamValue>();
                for (var i = 0; i < args.Count; i++)
                {
                    if (Scalar(args[i], $"{argPath}[{i}]") is { } v)
                    {
                        values.Add(v);
                    }
                }

                return primitive == "choice" ? new ChoiceDomain(values) : new GridDomain(values);
            case "randint":
            case "lograndint":
            case "qrandint":
                var ints = Numbers(args, argPath, primitive == "qrandint" ? 3 : 2, integers: true, node: argsNode, usage: Usage(primitive));
                return ints is null ? null : primitive switch
                {
                    "randint" => new RandIntDomain((long)ints[0], (long)ints[1]),
                    "lograndint" => new LogRandIntDomain((long)ints[0], (long)ints[1]),
                    _ => new QRandIntDomain((long)ints[0], (long)ints[1], (long)ints[2]),
                };
            default:
                var arity = primitive is "quniform" or "qloguniform" ? 3 : 2;
                var n = Numbers(args, argPath, arity, integers: false, node: argsNode, usage: Usage(primitive));
                return n is null ? null : primitive switch
                {
                    "uniform" => new UniformDomain(n[0], n[1]),
                    "quniform" => new QUniformDomain(n[0], n[1], n[2]),
                    "loguniform" => new LogUniformDomain(n[0], n[1]),
                    "qloguniform" => new QLogUniformDomain(n[0], n[1], n[2]),
                    _ => new NormalDomain(n[0], n[1]),
                };
        }
    }

    private static string Usage(string primitive) => primitive switch
    {
        "uniform" => new UniformDomain(0, 1).Usage,
        "quniform" => new QUniformDomain(0, 1, 1).Usage,
        "loguniform" => new LogUniformDomain(1, 2).Usage,
        "qloguniform" => new QLogUniformDomain(1, 2, 1).Usage,
        "normal" => new NormalDomain(0, 1).Usage,
        "randint" => new RandIntDomain(0, 1).Usage,
        "qrandint" => new QRandIntDomain(0, 1, 1).Usage,
        _ => new LogRandIntDomain(1, 2).Usage,
    };

    private double[]? Numbers(IList<YamlNode> args, string path, int arity, bool integers, YamlNode node, string usage)
    {
        if (args.Count != arity)
        {
            Error(path, node, $"expected {arity} arguments, got {args.Count}; usage: {usage}");
            return null;
        }

        var result = new double[arity];
        for (var i = 0; i < arity; i++)
        {
            var ok = integers
                ? args[i] is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } t } && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) && (result[i] = l) == l
                : TryNumber(args[i], out result[i]);
            if (!ok)
            {
                Error($"{path}[{i}]", args[i], $"expected {(integers ? "a whole number" : "a number")}, got {Describe(args[i])}; usage: {usage}");
                return null;
            }
        }

        return result;
    }
}
