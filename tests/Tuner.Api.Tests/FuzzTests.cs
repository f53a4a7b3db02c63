using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Tuner.Client;
using Tuner.Core.Experiments;
using Tuner.Core.Spec;
using Property = FsCheck.Xunit.PropertyAttribute;

namespace Tuner.Api.Tests;

/// <summary>
/// Bad input of every kind (garbage YAML, odd Unicode, huge and non-finite numbers, path tricks) gets
/// a clean error naming the field; the parser throws nothing else, and the service keeps serving
/// with every recorded result intact. Seeded: a failure replays.
/// </summary>
public sealed class FuzzTests
{
    private const string Valid = """
        name: fuzz
        trainable: noop
        metric: value
        mode: min
        samples: 1
        max_concurrent: 1
        search: { algorithm: tpe, seed: 1 }
        scheduler: { algorithm: asha, max_t: 3, grace_period: 1, reduction_factor: 3 }
        stop: { training_iteration: 1 }
        resources: { cpu: 0.5 }
        space:
          x1: { uniform: [-5, 10] }
          x2: { loguniform: [0.001, 15] }
          layers: { choice: [1, 2, 3] }
          units_2: { randint: [8, 64], when: { layers: [2, 3] } }
        """;

    private static readonly string[] Oddities =
    [
        "\u0000", "\u202E", "\uFEFF", "\uD83D\uDE00", "é", "../", "..\\", "/etc/passwd", "{", "}", "[", "]", ":", "- ", "\t", "\n", "\"", "'", "&a", "*a", "!!binary",
        ".nan", ".inf", "-.inf", "NaN", "1e309", "-1e309", "99999999999999999999999", "-9223372036854775809", "0x7fffffff", "1_000", "~", "null", "? ", "%YAML 1.2", "---", "...",
    ];

    /// <summary>Parses, and says whether the outcome was clean: a spec, or a <see cref="SpecException"/> whose errors each name a field.</summary>
    private static bool ParsesCleanly(string text)
    {
        try
        {
            SpecParser.Parse(text);
            return true;
        }
        catch (SpecException ex)
        {
            return ex.Errors.Count > 0 && ex.Errors.All(e => e.Path.Length > 0 && e.Message.Length > 0)
                ? true
                : throw new InvalidOperationException($"an error without a field or message for: {text}\n{ex.Message}");
        }
    }

    [Property(MaxTest = 400, Replay = "(20261127,1)")]
    public bool AnyText_ParsesOrFailsWithSpecErrors(string text) => ParsesCleanly(text ?? string.Empty);

    [Property(MaxTest = 400, Replay = "(20261127,3)")]
    public bool AValidSpec_WithOddTextInsertedAnywhere_ParsesOrFailsWithSpecErrors(PositiveInt position, byte oddity, string extra)
    {
        var at = position.Get % (Valid.Length + 1);
        var insert = Oddities[oddity % Oddities.Length] + (oddity % 3 == 0 ? extra ?? string.Empty : string.Empty);
        return ParsesCleanly(Valid[..at] + insert + Valid[at..]);
    }

    [Property(MaxTest = 300, Replay = "(20261127,5)")]
    public bool AnyNumbers_InBoundsSamplesAndSchedulers_ParseOrFailWithSpecErrors(double low, double high, long samples, double maxT)
    {
        static string N(double d) => double.IsNaN(d) ? ".nan" : double.IsPositiveInfinity(d) ? ".inf" : double.IsNegativeInfinity(d) ? "-.inf" : d.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var text = Valid
            .Replace("[-5, 10]", $"[{N(low)}, {N(high)}]", StringComparison.Ordinal)
            .Replace("samples: 1", $"samples: {samples}", StringComparison.Ordinal)
            .Replace("max_t: 3", $"max_t: {N(maxT)}", StringComparison.Ordinal);
        return ParsesCleanly(text);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("a\\\\b")]
    [InlineData("caf\u00e9")]
    [InlineData("evil\u202Etxt")]
    [InlineData("\"\"")]
    public void NamesThatWouldLeaveOrConfuseTheResultsFolder_AreRefusedByName(string name)
    {
        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse(Valid.Replace("name: fuzz", $"name: {name}", StringComparison.Ordinal)));
        Assert.Contains(ex.Errors, e => e.Path == "name");
    }

    [Fact]
    public async Task TheService_AnswersGarbageWithInvalidArgument_KeepsServing_AndLosesNoRecordedResult()
    {
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();
        var ct = TestContext.Current.CancellationToken;
        var first = await client.RunAsync(ApiEndToEndTests.Branin(3), cancellationToken: ct);
        var recorded = Path.Combine(first.Experiment.OutputDirectory!, "experiment.json");
        var before = SHA256.HashData(File.ReadAllBytes(recorded));
        var results = RunRows.ByTrial(first.Experiment.OutputDirectory!);

        var raw = server.Raw();
        var random = new Random(20261127);
        var codes = new Dictionary<StatusCode, int>();
        for (var i = 0; i < 120; i++)
        {
            var text = Valid;
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                var at = random.Next(text.Length + 1);
                text = random.Next(3) switch
                {
                    0 => text[..at] + Oddities[random.Next(Oddities.Length)] + text[at..],
                    1 => text[..at] + text[Math.Min(text.Length, at + random.Next(1, 20))..],
                    _ => text[..at] + (char)random.Next(1, 0x3000) + text[at..],
                };
            }

            var id = random.Next(4) == 0 ? Oddities[random.Next(Oddities.Length)] + "x" : string.Empty;
            try
            {
                await raw.SubmitExperimentAsync(new V1.SubmitExperimentRequest { Spec = text, ExperimentId = id }, cancellationToken: ct);
                codes[StatusCode.OK] = codes.GetValueOrDefault(StatusCode.OK) + 1;
            }
            catch (RpcException ex)
            {
                Assert.True(ex.StatusCode == StatusCode.InvalidArgument, $"{ex.StatusCode} for:\n{text}\n{ex.Status.Detail}");
                Assert.False(string.IsNullOrWhiteSpace(ex.Status.Detail));
                codes[ex.StatusCode] = codes.GetValueOrDefault(ex.StatusCode) + 1;
            }
        }

        Assert.True(codes.GetValueOrDefault(StatusCode.InvalidArgument) > 30 && codes.GetValueOrDefault(StatusCode.OK) > 0, string.Join(", ", codes));
        Assert.Null(SpecParser.Parse(Valid).Custom);

        // Path tricks in ids and uploaded file names are refused by field.
        foreach (var id in new[] { "../up", "a/b", "..", new string('x', 300), "caf\u00e9" })
        {
            var ex = await Assert.ThrowsAsync<RpcException>(async () => await raw.SubmitExperimentAsync(new V1.SubmitExperimentRequest { Spec = Valid, ExperimentId = id }, cancellationToken: ct));
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            Assert.True(ex.Status.Detail.StartsWith("experiment_id:", StringComparison.Ordinal), ex.Status.Detail);
        }

        var upload = Valid.Replace("trainable: noop", "trainable: { assembly: p.dll, type: P.T }", StringComparison.Ordinal);
        foreach (var name in new[] { "../p.dll", "sub/p.dll", "..", "p.dll\u0000" })
        {
            var ex = await Assert.ThrowsAsync<RpcException>(async () => await raw.SubmitExperimentAsync(
                new V1.SubmitExperimentRequest { Spec = upload, Code = { new V1.CodeFile { Name = name, Content = Google.Protobuf.ByteString.CopyFromUtf8("x") } } },
                cancellationToken: ct));
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            Assert.Contains("code[0].name", ex.Status.Detail, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(server.OutputRoot, "..", ".code")) && Directory.EnumerateFiles(Path.Combine(server.OutputRoot, ".."), "p.dll").Any());

        // Still serving; the first experiment's record is as it was.
        using var channel = GrpcChannel.ForAddress(server.Address);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: ct)).Status);
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(recorded)));
        Assert.Equal(results, RunRows.ByTrial(first.Experiment.OutputDirectory!));
        Assert.Equal(ExperimentStatus.Completed, (await client.GetAsync(first.ExperimentId, 20, ct)).Status);
    }
}
