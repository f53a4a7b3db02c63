using Tuner.Core.Results;

namespace Tuner.Core.Tests;

/// <summary>Reading the journal a kill left behind: whole lines count, a line cut short does not.</summary>
public sealed class ExperimentJournalTests
{
    private const string Start = """{"event":"start","id":"e1","started_at":"2026-11-27T10:00:00+00:00","spec":{"name":"e"}}""";
    private const string Event = """{"event":"experiment","position":1,"time":"2026-11-27T10:00:00+00:00","kind":"ExperimentStatus","message":"started","experiment_status":"running"}""";

    [Theory]
    [InlineData("{\"event\":\"experiment\",\"posi")]
    [InlineData("{\"event\":\"experiment\",\"posi\n")]
    public void ALastLineCutShort_IsDroppedAndCutFromTheFile(string torn)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, $"{Start}\n{Event}\n{torn}");

            var lines = ExperimentJournal.Read(path);

            Assert.Equal(2, lines.Count);
            Assert.Equal(1, ExperimentJournal.ReadEvent(lines[1]).Position);
            Assert.Equal($"{Start}\n{Event}\n", File.ReadAllText(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ABrokenLineInTheMiddle_IsAnErrorNamingIt()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, $"{Start}\nnot json\n{Event}\n");

            var ex = Assert.Throws<InvalidDataException>(() => ExperimentJournal.Read(path));

            Assert.StartsWith($"{path} line 2 is not JSON", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AFileThatDoesNotStartWithTheSpec_IsNotAJournal()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, $"{Event}\n");

            var ex = Assert.Throws<InvalidDataException>(() => ExperimentJournal.Read(path));

            Assert.Contains("does not start with the experiment's spec", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
