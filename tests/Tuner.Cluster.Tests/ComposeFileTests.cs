using System.Reflection;
using Tuner.Hosting;
using Tuner.Scheduler.Api;
using Tuner.Scheduler.Hosting;
using Tuner.Worker;
using YamlDotNet.RepresentationModel;

namespace Tuner.Cluster.Tests;

/// <summary>
/// No Docker engine runs here, so deploy/ is checked against what the hosts read: every setting the
/// compose file passes binds to a real option, the services agree on Redis, cluster id, volumes and
/// ports, and the images are multi-stage and run as non-root.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly string Deploy = Path.Combine(RepoRoot.Path, "deploy");

    private static readonly Dictionary<string, Type> Sections = new(StringComparer.Ordinal)
    {
        ["Tuner__Cluster"] = typeof(TunerClusterOptions),
        ["Tuner__Api"] = typeof(TunerApiOptions),
        ["Tuner__Scheduler"] = typeof(ResourceSchedulerOptions),
        ["Worker"] = typeof(WorkerOptions),
        ["Tuner__Monitoring"] = typeof(Tuner.Scheduler.Monitoring.MonitoringOptions),
        ["Tuner__Telemetry"] = typeof(TunerTelemetryOptions),
    };

    /// <summary>Variables read by libraries rather than by our options classes.</summary>
    private static readonly string[] LibraryVariables = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME", "OTEL_SERVICE_NAMESPACE", "TUNER_DATA_DIR"];

    private static YamlMappingNode Compose()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(Deploy, "docker-compose.yml"))));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlMappingNode Service(string name) => (YamlMappingNode)((YamlMappingNode)Compose()["services"])[name];

    /// <summary>A service's environment with YAML merge keys (<c>&lt;&lt;: *cluster-env</c>) applied.</summary>
    private static Dictionary<string, string> Environment(string service)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in (YamlMappingNode)Service(service)["environment"])
        {
            if (((YamlScalarNode)key).Value == "<<")
            {
                foreach (var (k, v) in (YamlMappingNode)value)
                {
                    result[((YamlScalarNode)k).Value!] = ((YamlScalarNode)v).Value!;
                }
            }
            else
            {
                result[((YamlScalarNode)key).Value!] = ((YamlScalarNode)value).Value!;
            }
        }

        return result;
    }

    [Fact]
    public void TheComposeFile_HasTheWholeTopology()
    {
        var services = ((YamlMappingNode)Compose()["services"]).Children.Keys.Select(k => ((YamlScalarNode)k).Value).ToList();
        Assert.Equal(["redis", "scheduler", "worker", "gpu-worker", "otel-collector", "prometheus", "grafana", "jaeger"], services);
        Assert.False(Service("worker").Children.ContainsKey("ports"), "workers publish no fixed port, so that --scale worker=N works");
        Assert.False(Service("worker").Children.ContainsKey("container_name"), "a fixed container name would stop --scale");
    }

    [Theory]
    [InlineData("scheduler")]
    [InlineData("worker")]
    [InlineData("gpu-worker")]
    public void EverySettingPassed_BindsToARealOption(string service)
    {
        foreach (var name in Environment(service).Keys.Where(k => !LibraryVariables.Contains(k)))
        {
            var parts = name.Split("__");
            var section = Sections.Keys.Where(s => name.StartsWith(s + "__", StringComparison.Ordinal)).MaxBy(s => s.Length)
                ?? throw new Xunit.Sdk.XunitException($"{service}: {name} is read by no host");
            var path = name[(section.Length + 2)..].Split("__");
            var type = Sections[section];
            foreach (var part in path)
            {
                if (int.TryParse(part, out _))
                {
                    continue;
                }

                var property = type.GetProperty(part, BindingFlags.Public | BindingFlags.Instance)
                    ?? throw new Xunit.Sdk.XunitException($"{service}: {name}: {type.Name} has no property '{part}'");
                type = property.PropertyType.IsGenericType ? property.PropertyType.GetGenericArguments()[0] : property.PropertyType;
            }

            Assert.True(parts.Length >= 2);
        }
    }

    [Fact]
    public void TheServices_AgreeOnRedisClusterIdVolumesAndPorts()
    {
        var scheduler = Environment("scheduler");
        var workers = new[] { Environment("worker"), Environment("gpu-worker") };
        Assert.Equal("redis:6379", scheduler["Tuner__Cluster__Redis"]);
        Assert.All(workers, w =>
        {
            Assert.Equal(scheduler["Tuner__Cluster__Redis"], w["Tuner__Cluster__Redis"]);
            Assert.Equal(scheduler["Tuner__Cluster__ClusterId"], w["Tuner__Cluster__ClusterId"]);
            Assert.Equal("http://otel-collector:4317", w["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        });
        Assert.Contains("0.0.0.0:4317", File.ReadAllText(Path.Combine(Deploy, "otel-collector.yaml")), StringComparison.Ordinal);

        // Checkpoints and results: the workers see the scheduler's output folder at the same path.
        var output = scheduler["Tuner__Api__OutputRoot"];
        string Mount(string service) => ((YamlSequenceNode)Service(service)["volumes"]).Children.Select(v => ((YamlScalarNode)v).Value!).Single(v => v.StartsWith("runs:", StringComparison.Ordinal));
        Assert.Equal($"runs:{output}", Mount("scheduler"));
        Assert.Equal($"runs:{output}", Mount("worker"));
        Assert.Equal($"runs:{output}", Mount("gpu-worker"));

        // The API address it listens on is published, with TLS and keys (it is not loopback).
        var api = new Uri(scheduler["Tuner__Api__Urls__0"]);
        Assert.Contains($"{api.Port}:{api.Port}", ((YamlSequenceNode)Service("scheduler")["ports"]).Children.Select(p => ((YamlScalarNode)p).Value));
        var options = new TunerApiOptions
        {
            Urls = [scheduler["Tuner__Api__Urls__0"]],
            ApiKeys = [new ApiKey { Key = new string('k', 20), Role = scheduler["Tuner__Api__ApiKeys__0__Role"] }, new ApiKey { Key = new string('u', 20), Role = scheduler["Tuner__Api__ApiKeys__1__Role"] }],
        };
        Assert.Equal(["Tuner:Api:CertificatePath: required for 'https://0.0.0.0:5443/'"], options.Problems());
        Assert.Equal("/run/secrets/api.pfx", scheduler["Tuner__Api__CertificatePath"]);

        // Prometheus scrapes the scheduler's monitoring port and the workers' scrape port, as the silos are told.
        var prometheus = File.ReadAllText(Path.Combine(Deploy, "prometheus.yml"));
        var monitoring = new Uri(scheduler["Tuner__Monitoring__Urls__0"]);
        Assert.Contains($"\"scheduler:{monitoring.Port}\"", prometheus, StringComparison.Ordinal);
        Assert.Contains($"{monitoring.Port}:{monitoring.Port}", ((YamlSequenceNode)Service("scheduler")["ports"]).Children.Select(p => ((YamlScalarNode)p).Value));
        Assert.All(workers, w =>
        {
            Assert.Contains($"port: {w["Tuner__Telemetry__PrometheusPort"]}", prometheus, StringComparison.Ordinal);
            Assert.Equal("+", w["Tuner__Telemetry__PrometheusHost"]);
        });
    }

    [Fact]
    public void TheGpuWorker_ReservesADevice_AndBuildsTheCudaImage()
    {
        var gpu = Service("gpu-worker");
        Assert.Equal("cuda", ((YamlScalarNode)((YamlMappingNode)((YamlMappingNode)gpu["build"])["args"])["TORCH_DEVICE"]).Value);
        var device = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)gpu["deploy"])["resources"])["reservations"])["devices"]).Children[0];
        Assert.Equal("nvidia", ((YamlScalarNode)device["driver"]).Value);
        Assert.Equal(((YamlScalarNode)device["count"]).Value, Environment("gpu-worker")["Worker__Gpus"]);
    }

    [Fact]
    public void TheWorkerImage_CarriesThePretrainedResNet_WhereTheTrainableLooksForIt()
    {
        var lines = File.ReadAllLines(Path.Combine(Deploy, "worker.Dockerfile")).Select(l => l.Trim()).ToList();
        var packages = Assert.Single(lines, l => l.StartsWith("ENV NUGET_PACKAGES=", StringComparison.Ordinal))["ENV NUGET_PACKAGES=".Length..];
        var copy = Assert.Single(lines, l => l.StartsWith("COPY --from=build", StringComparison.Ordinal) && l.Contains(Tuner.Data.Pretrained.ResNet18Files.PackageId.ToLowerInvariant(), StringComparison.Ordinal)).Split(' ');

        // What the worker's ResNet18Files.NuGetCopy looks under, with NUGET_PACKAGES set as the image sets it.
        var expected = $"{packages}/{Tuner.Data.Pretrained.ResNet18Files.PackageId.ToLowerInvariant()}/{Tuner.Data.Pretrained.ResNet18Files.PackageVersion}/tools";
        Assert.Equal(expected, copy[^1]);
        Assert.Equal($"/root/.nuget/packages/{Tuner.Data.Pretrained.ResNet18Files.PackageId.ToLowerInvariant()}/{Tuner.Data.Pretrained.ResNet18Files.PackageVersion}/tools", copy[^2]);
        Assert.Contains(File.ReadAllLines(Path.Combine(RepoRoot.Path, "src", "Tuner.Training", "Tuner.Training.csproj")), l => l.Contains($"<PackageDownload Include=\"{Tuner.Data.Pretrained.ResNet18Files.PackageId}\" Version=\"[{Tuner.Data.Pretrained.ResNet18Files.PackageVersion}]\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("scheduler.Dockerfile")]
    [InlineData("worker.Dockerfile")]
    public void TheImages_AreMultiStage_AndRunAsNonRoot(string dockerfile)
    {
        var lines = File.ReadAllLines(Path.Combine(Deploy, dockerfile)).Select(l => l.Trim()).ToList();
        Assert.True(lines.Count(l => l.StartsWith("FROM ", StringComparison.Ordinal)) >= 2, "multi-stage");
        var lastFrom = lines.FindLastIndex(l => l.StartsWith("FROM ", StringComparison.Ordinal));
        var user = lines.Skip(lastFrom).LastOrDefault(l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.NotNull(user);
        Assert.DoesNotContain("root", user, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal));
    }

    [Fact]
    public void TheDeployGuide_SetsEveryRequiredVariable_AndMakesTheMountedCertificate()
    {
        var compose = File.ReadAllText(Path.Combine(Deploy, "docker-compose.yml"));
        var guide = File.ReadAllText(Path.Combine(Deploy, "README.md"));

        // ${NAME:?message}: compose refuses to start without NAME; the guide must export each one.
        var required = System.Text.RegularExpressions.Regex.Matches(compose, @"\$\{(?<name>[A-Z_]+):\?").Select(m => m.Groups["name"].Value).Distinct().ToList();
        Assert.NotEmpty(required);
        Assert.All(required, name => Assert.Matches($@"export [^\n]*\b{name}=", guide));

        // The certificate the scheduler mounts is the one the guide makes, with the password compose passes.
        var mount = ((YamlSequenceNode)Service("scheduler")["volumes"]).Select(v => ((YamlScalarNode)v).Value!).Single(v => v.EndsWith(":ro", StringComparison.Ordinal));
        var source = mount.Split(':')[0].TrimStart('.', '/');
        Assert.Contains($"dotnet dev-certs https -ep {source} -p \"$TUNER_CERT_PASSWORD\"", guide, StringComparison.Ordinal);
        Assert.Contains($"{source}:{Environment("scheduler")["Tuner__Api__CertificatePath"]}:ro", mount, StringComparison.Ordinal);
        Assert.Contains(source, compose.Split("\nname:")[0], StringComparison.Ordinal);
    }
}
