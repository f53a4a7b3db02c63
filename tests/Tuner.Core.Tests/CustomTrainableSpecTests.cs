using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class CustomTrainableSpecTests
{
    private const string Tail = "\nmetric: loss\nspace:\n  x: { uniform: [0, 1] }\n";

    [Fact]
    public void AnAssemblyTrainable_ParsesWritesAndReadsBack()
    {
        var spec = SpecParser.Parse("name: mine\ntrainable: { assembly: /opt/models/My.Models.dll, type: My.Models.Net }" + Tail);

        Assert.Equal("My.Models.Net", spec.Trainable);
        Assert.False(spec.Custom!.IsCommand);
        Assert.Equal("/opt/models/My.Models.dll", spec.Custom.Assembly);
        var back = SpecParser.Parse(SpecWriter.ToJson(spec));
        Assert.Equal(spec.Custom, back.Custom);
        Assert.Equal(SpecWriter.ToJson(spec), SpecWriter.ToJson(back));
    }

    [Fact]
    public void ACommandTrainable_ParsesWithItsEnvironment_AndShowsItRedacted()
    {
        var spec = SpecParser.Parse("name: py\ntrainable:\n  command: [python3, train.py, --fast]\n  working_dir: /srv/job\n  env: { TOKEN: abc123, MODE: fast }" + Tail);

        Assert.Equal("python3", spec.Trainable);
        Assert.Equal(["python3", "train.py", "--fast"], spec.Custom!.Command);
        Assert.Equal("abc123", spec.Custom.Env["TOKEN"]);
        var back = SpecParser.Parse(SpecWriter.ToJson(spec));
        Assert.Equal(spec.Custom, back.Custom);
        Assert.Equal(SpecWriter.ToJson(spec), SpecWriter.ToJson(back));
        var shown = SpecWriter.ToJson(spec.Redacted());
        Assert.DoesNotContain("abc123", shown, StringComparison.Ordinal);
        Assert.Contains("\"TOKEN\":\"***\"", shown, StringComparison.Ordinal);
    }

    [Fact]
    public void RelativePaths_AreReadFromTheSpecFilesFolder()
    {
        var dir = Directory.CreateTempSubdirectory("tuner-spec-").FullName;
        var file = Path.Combine(dir, "exp.yaml");
        File.WriteAllText(file, "name: py\ntrainable: { command: [python3, train.py], working_dir: job }" + Tail);
        Assert.Equal(Path.Combine(dir, "job"), SpecParser.ParseFile(file).Custom!.WorkingDir);

        File.WriteAllText(file, "name: py\ntrainable: { command: [python3, train.py] }" + Tail);
        Assert.Equal(dir, SpecParser.ParseFile(file).Custom!.WorkingDir);

        File.WriteAllText(file, "name: lib\ntrainable: { assembly: bin/My.dll, type: My.T }" + Tail);
        Assert.Equal(Path.Combine(dir, "bin", "My.dll"), SpecParser.ParseFile(file).Custom!.Assembly);
    }

    [Theory]
    [InlineData("{ assembly: a.dll, command: [x] }", "trainable", "not both")]
    [InlineData("{ working_dir: /x }", "trainable", "assembly: PATH with type")]
    [InlineData("{ assembly: a.dll }", "trainable.type", "is required with assembly")]
    [InlineData("{ assembly: a.exe, type: A.B }", "trainable.assembly", "not the path of a .dll")]
    [InlineData("{ assembly: a.dll, type: 'not a type' }", "trainable.type", "not a type name")]
    [InlineData("{ assembly: a.dll, type: A.B, env: { X: y } }", "trainable.env", "belongs to a command trainable")]
    [InlineData("{ command: [] }", "trainable.command", "expected a list")]
    [InlineData("{ command: python3 }", "trainable.command", "expected a list")]
    [InlineData("{ command: [python3], type: A.B }", "trainable.type", "belongs to an assembly trainable")]
    [InlineData("{ command: [python3], env: { TUNER_TRIAL_ID: x } }", "trainable.env.TUNER_TRIAL_ID", "cannot be overridden")]
    [InlineData("{ command: [python3], env: { 9X: y } }", "trainable.env.9X", "not a valid environment variable name")]
    [InlineData("{ command: [python3], env: [a] }", "trainable.env", "expected a mapping")]
    [InlineData("{ comand: [python3] }", "trainable.comand", "did you mean 'command'")]
    public void BadCustomTrainables_FailNamingTheField(string trainable, string path, string message)
    {
        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse($"name: bad\ntrainable: {trainable}" + Tail));
        Assert.Contains(ex.Errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }
}
