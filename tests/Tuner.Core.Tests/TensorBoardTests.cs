using System.Buffers.Binary;
using Google.Protobuf;
using Tuner.Core.Experiments;
using Tuner.Core.Results.TensorBoard;
using Tuner.Core.Results.TensorBoard.Protos;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

/// <summary>
/// TensorBoard's event files: the record framing and masked CRC-32C checked against an independent
/// bitwise CRC, a reader that refuses a damaged record and stops at a torn one, and what the sink
/// writes: scalars per step in each trial's folder, HParams' experiment in the root, session start and end,
/// and short trials summarised in the root run.
/// </summary>
public sealed class TensorBoardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tuner-tb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>CRC-32C the slow way: reflected polynomial 0x82F63B78, one bit at a time.</summary>
    private static uint BitwiseCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }

    [Fact]
    public void Crc32C_MatchesTheStandardCheckValue_AndABitwiseImplementation()
    {
        // The catalogued check value of CRC-32C ("123456789").
        Assert.Equal(0xE3069283u, EventFile.Crc32C("123456789"u8));
        var random = new Random(11);
        for (var length = 0; length < 100; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(BitwiseCrc32C(data), EventFile.Crc32C(data));
        }
    }

    [Fact]
    public void Records_AreFramedWithLengthDataAndMaskedCrcs()
    {
        var path = Path.Combine(_dir, "events.out.tfevents.1.test");
        var e = new Event { WallTime = 1.5, Step = 3, FileVersion = "brain.Event:2" };
        using (var stream = File.Create(path))
        {
            EventFile.WriteRecord(stream, e.ToByteArray());
        }

        var bytes = File.ReadAllBytes(path);
        var data = e.ToByteArray();
        Assert.Equal(12 + data.Length + 4, bytes.Length);
        Assert.Equal((ulong)data.Length, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        static uint Mask(uint crc) => unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
        Assert.Equal(Mask(BitwiseCrc32C(bytes.AsSpan(0, 8))), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(data, bytes.AsSpan(12, data.Length).ToArray());
        Assert.Equal(Mask(BitwiseCrc32C(data)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12 + data.Length)));
        Assert.Equal(e, Assert.Single(EventFile.Read(path)));
    }

    [Fact]
    public void TheReader_RefusesADamagedRecord_NamingIt_AndStopsAtATornLastOne()
    {
        var path = Path.Combine(_dir, "events.out.tfevents.2.test");
        using (var stream = File.Create(path))
        {
            for (var step = 0; step < 3; step++)
            {
                EventFile.WriteRecord(stream, new Event { Step = step, WallTime = step }.ToByteArray());
            }
        }

        var whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..^3]);
        Assert.Equal([0L, 1L], EventFile.Read(path).Select(e => e.Step));

        var damaged = whole.ToArray();
        var second = whole.Length / 3;
        damaged[second + 13] ^= 0x40;
        File.WriteAllBytes(path, damaged);
        var error = Assert.Throws<InvalidDataException>(() => EventFile.Read(path).ToList());
        Assert.Contains("record 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSink_WritesScalarsPerStep_AndTheHParamsExperimentAndSessions()
    {
        var spec = new ExperimentSpec
        {
            Name = "tb",
            Trainable = "branin",
            Metric = "loss",
            Space = new SearchSpace(new Dictionary<string, Domain>
            {
                ["lr"] = Domain.LogUniform(1e-4, 1e-1),
                ["layers"] = Domain.Choice(1, 2, 3),
                ["act"] = Domain.Choice("relu", "tanh"),
            }),
        };
        var at = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        await using (var sink = new TensorBoardSink())
        {
            sink.ExperimentStarted("tb-1", spec, _dir, at, resumed: false);
            sink.TrialCreated("t00001", new TrialConfig(new Dictionary<string, ParamValue> { ["lr"] = 0.01, ["layers"] = 2, ["act"] = "relu" }), at);
            for (var i = 1; i <= 3; i++)
            {
                sink.Result("t00001", new TrialResult(i, i * 0.5, at.ToUnixTimeSeconds() + i, new Dictionary<string, double> { ["loss"] = 1.0 / i, ["acc"] = i / 4.0 }));
            }

            sink.TrialEnded("t00001", TrialStatus.Terminated, at.AddSeconds(4));
            sink.TrialCreated("t00002", new TrialConfig(new Dictionary<string, ParamValue> { ["lr"] = 0.001, ["layers"] = 1, ["act"] = "tanh" }), at);
            sink.TrialEnded("t00002", TrialStatus.Error, at.AddSeconds(5));

            // Two trials ending within a second of their start: no run of their own, points of the root run.
            foreach (var (id, final) in new[] { ("t00003", 0.4), ("t00004", 0.7) })
            {
                var started = at.AddSeconds(6);
                sink.TrialCreated(id, new TrialConfig(new Dictionary<string, ParamValue> { ["lr"] = 0.01, ["layers"] = 1, ["act"] = "relu" }), started);
                sink.Result(id, new TrialResult(1, 0.1, started.ToUnixTimeSeconds() + 0.1, new Dictionary<string, double> { ["loss"] = final + 0.5 }));
                sink.Result(id, new TrialResult(2, 0.2, started.ToUnixTimeSeconds() + 0.2, new Dictionary<string, double> { ["loss"] = final }));
                sink.TrialEnded(id, TrialStatus.Terminated, started.AddSeconds(0.3));
            }

            await sink.ExperimentEndedAsync(ExperimentStatus.Completed, at.AddSeconds(5));
        }

        // The root run: the HParams experiment, every hyperparameter with its domain, and the metric.
        var root = EventFile.Read(Assert.Single(Directory.GetFiles(_dir, "events.out.tfevents.*"))).ToList();
        Assert.Equal("brain.Event:2", root[0].FileVersion);
        var experiment = HParams(root[1], TensorBoardSink.ExperimentTag).Experiment;
        Assert.Equal(["act", "layers", "lr"], experiment.HparamInfos.Select(h => h.Name).Order());
        var lr = experiment.HparamInfos.Single(h => h.Name == "lr");
        Assert.Equal((DataType.Float64, 1e-4, 1e-1), (lr.Type, lr.DomainInterval.MinValue, lr.DomainInterval.MaxValue));
        var act = experiment.HparamInfos.Single(h => h.Name == "act");
        Assert.Equal(DataType.String, act.Type);
        Assert.Equal(["relu", "tanh"], act.DomainDiscrete.Values.Select(v => v.StringValue));
        Assert.Equal([1.0, 2, 3], experiment.HparamInfos.Single(h => h.Name == "layers").DomainDiscrete.Values.Select(v => v.NumberValue));
        Assert.Contains(experiment.MetricInfos, m => m.Name.Tag == "loss");
        Assert.Equal(["t00001", "t00002"], Directory.GetDirectories(Path.Combine(_dir, "trials")).Select(Path.GetFileName).Order());
        var lastLoss = root.SelectMany(e => e.Summary?.Value.Where(v => v.Tag == "trials/loss").Select(v => (e.Step, v.SimpleValue)) ?? []).ToList();
        Assert.Equal([(3L, 0.4f), (4L, 0.7f)], lastLoss);
        var bestLoss = root.SelectMany(e => e.Summary?.Value.Where(v => v.Tag == "best/loss").Select(v => (e.Step, v.SimpleValue)) ?? []).ToList();
        Assert.Equal([(3L, 0.4f), (4L, 0.4f)], bestLoss);
        Assert.Contains(root, e => e.Step == 4 && e.Summary?.Value.Any(v => v.Tag == "trials/training_iteration" && v.SimpleValue == 2) == true);

        // A trial's run: session start with its config, a scalar per metric per step, session end with its status.
        var trial = EventFile.Read(Assert.Single(Directory.GetFiles(Path.Combine(_dir, "trials", "t00001"), "events.out.tfevents.*"))).ToList();
        var start = HParams(trial[1], TensorBoardSink.SessionStartTag).SessionStartInfo;
        Assert.Equal((0.01, 2.0, "relu"), (start.Hparams["lr"].NumberValue, start.Hparams["layers"].NumberValue, start.Hparams["act"].StringValue));
        var loss = trial.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Where(v => v.Tag == "loss").Select(v => (e.Step, v.SimpleValue, e.WallTime))).ToList();
        Assert.Equal([(1L, 1f, 1_700_000_001.0), (2L, 0.5f, 1_700_000_002.0), (3L, 1 / 3f, 1_700_000_003.0)], loss);
        Assert.Equal(Status.Success, HParams(trial[^1], TensorBoardSink.SessionEndTag).SessionEndInfo.Status);
        var failed = EventFile.Read(Assert.Single(Directory.GetFiles(Path.Combine(_dir, "trials", "t00002"), "events.out.tfevents.*"))).ToList();
        Assert.Equal(Status.Failure, HParams(failed[^1], TensorBoardSink.SessionEndTag).SessionEndInfo.Status);
    }

    private static HParamsPluginData HParams(Event e, string tag)
    {
        var value = Assert.Single(e.Summary.Value);
        Assert.Equal(tag, value.Tag);
        Assert.Equal("hparams", value.Metadata.PluginData.PluginName);
        return HParamsPluginData.Parser.ParseFrom(value.Metadata.PluginData.Content);
    }
}
