using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Tuner.Core.Trainables;

namespace Tuner.Api.Tests;

/// <summary>Compiles a user's trainable class library at test time, as `dotnet build` would for them.</summary>
internal static class PluginCompiler
{
    /// <summary>A trainable library in its own folder: <c>Plugin.Quadratic</c> reports <c>loss = (x - 0.25)^2 + 1/iteration</c> for 5 iterations.</summary>
    public const string QuadraticSource = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Tuner.Core.Trainables;

        namespace Plugin;

        public sealed class Quadratic : ITrainable
        {
            private double _x;
            private int _iteration;

            public ValueTask SetupAsync(TrialContext context, CancellationToken cancellationToken)
            {
                _x = context.Config.GetDouble("x", 0);
                return ValueTask.CompletedTask;
            }

            public ValueTask<StepResult> StepAsync(CancellationToken cancellationToken)
            {
                _iteration++;
                var loss = (_x - 0.25) * (_x - 0.25) + 1.0 / _iteration;
                return ValueTask.FromResult(new StepResult(new Dictionary<string, double> { ["loss"] = loss }, _iteration >= 5));
            }

            public ValueTask SaveCheckpointAsync(string directory, CancellationToken cancellationToken) => ValueTask.CompletedTask;

            public ValueTask RestoreCheckpointAsync(string directory, CancellationToken cancellationToken) => ValueTask.CompletedTask;

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
        """;

    /// <summary>Compiles <paramref name="source"/> into <c>folder/name.dll</c> against this host's Tuner.Core (or <paramref name="extraReferences"/>).</summary>
    public static string Compile(string folder, string name, string source, IEnumerable<MetadataReference>? extraReferences = null, bool referenceTunerCore = true, string? assemblyVersion = null)
    {
        Directory.CreateDirectory(folder);
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p));
        var references = trusted.Concat(extraReferences ?? []);
        if (referenceTunerCore)
        {
            references = references.Append(MetadataReference.CreateFromFile(typeof(ITrainable).Assembly.Location));
        }

        var attributes = assemblyVersion is null ? string.Empty : $"[assembly: System.Reflection.AssemblyVersion(\"{assemblyVersion}\")]\n";
        var compilation = CSharpCompilation.Create(
            name,
            [CSharpSyntaxTree.ParseText(attributes + source, new CSharpParseOptions(LanguageVersion.Latest))],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Disable));
        var path = Path.Combine(folder, name + ".dll");
        var result = compilation.Emit(path);
        if (!result.Success)
        {
            throw new InvalidOperationException("the plugin did not compile:\n" + string.Join('\n', result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        }

        return path;
    }
}
