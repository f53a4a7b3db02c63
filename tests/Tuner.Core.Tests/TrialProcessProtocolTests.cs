using Tuner.Core.Protocol;
using Tuner.Core.Space;

namespace Tuner.Core.Tests;

public sealed class TrialProcessProtocolTests
{
    [Fact]
    public void AReport_RoundTrips_WithNonFiniteValuesAndDone()
    {
        var line = TrialProcessProtocol.FormatReport(new Dictionary<string, double> { ["loss"] = 0.25, ["acc"] = double.NaN, ["big"] = double.PositiveInfinity }, done: true);

        var report = Assert.IsType<ProtocolMessage.Report>(TrialProcessProtocol.Parse(line));

        Assert.StartsWith("TUNER_REPORT {", line, StringComparison.Ordinal);
        Assert.True(report.Done);
        Assert.Equal(0.25, report.Metrics["loss"]);
        Assert.True(double.IsNaN(report.Metrics["acc"]));
        Assert.Equal(double.PositiveInfinity, report.Metrics["big"]);
    }

    [Fact]
    public void AReport_KeepsNumbers_AndIgnoresOtherValues()
    {
        var report = Assert.IsType<ProtocolMessage.Report>(TrialProcessProtocol.Parse("""TUNER_REPORT {"loss": 1.5, "note": "warm", "nested": {"a": 1}, "epoch": 3}"""));

        Assert.Equal(new Dictionary<string, double> { ["loss"] = 1.5, ["epoch"] = 3 }, report.Metrics);
        Assert.False(report.Done);
    }

    [Fact]
    public void ACheckpointAnnouncement_NamesItsFolder()
    {
        var message = TrialProcessProtocol.Parse(TrialProcessProtocol.FormatCheckpoint("checkpoint_000004"));

        Assert.Equal(new ProtocolMessage.Checkpoint("checkpoint_000004"), message);
    }

    [Theory]
    [InlineData("epoch 3 done")]
    [InlineData("TUNER_REPORTER {}")]
    [InlineData("")]
    public void OtherOutput_IsNotAMessage(string line) => Assert.Null(TrialProcessProtocol.Parse(line));

    [Theory]
    [InlineData("TUNER_REPORT loss=1", "TUNER_REPORT must be followed by one JSON object on the same line, got: TUNER_REPORT loss=1")]
    [InlineData("TUNER_REPORT [1, 2]", "TUNER_REPORT must be followed by one JSON object on the same line")]
    [InlineData("""TUNER_CHECKPOINT {"dir": "x"}""", """TUNER_CHECKPOINT needs {"path": "<folder>"}""")]
    public void AMalformedMessage_FailsSayingWhatWasExpected(string line, string message)
    {
        var ex = Assert.Throws<FormatException>(() => TrialProcessProtocol.Parse(line));

        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheConfigFile_RoundTripsEveryKind()
    {
        var config = new TrialConfig([new("lr", 0.001), new("epochs", 5), new("whole", 3.0), new("cell", "gru"), new("bidirectional", true)]);
        var path = Path.GetTempFileName();
        try
        {
            TrialProcessProtocol.WriteConfig(path, config);
            var read = TrialProcessProtocol.ReadConfig(path);

            Assert.Equal(config.Select(p => (p.Key, p.Value)), read.Select(p => (p.Key, p.Value)));
            Assert.Equal(ParamKind.Float, read["whole"].Kind);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
