using System.Reflection;
using System.Runtime.Loader;
using Tuner.Core.Spec;

namespace Tuner.Core.Trainables;

/// <summary>
/// A user's trainable class library, loaded in a collectible <see cref="AssemblyLoadContext"/> of its
/// own: its dependencies come from its folder (its <c>.deps.json</c>), while the assemblies the host
/// already has (Tuner.Core with <see cref="ITrainable"/>, the framework) are shared, so that its type
/// is an <see cref="ITrainable"/> here. <see cref="Dispose"/> unloads it once nothing uses its types.
/// </summary>
public sealed class TrainableAssembly : IDisposable
{
    private readonly LoadContext _context;

    private TrainableAssembly(LoadContext context, TrainableDescriptor descriptor)
    {
        _context = context;
        Descriptor = descriptor;
    }

    /// <summary>Creates instances of the trainable type.</summary>
    public TrainableDescriptor Descriptor { get; }

    /// <summary>Loads the assembly and finds the type; fails with <see cref="TrainableLoadException"/> naming the field and what is there instead.</summary>
    public static TrainableAssembly Load(CustomTrainableSpec spec)
    {
        var path = spec.Assembly ?? throw new TrainableLoadException("trainable.assembly", "is required for an assembly trainable");
        if (!Path.IsPathFullyQualified(path))
        {
            throw new TrainableLoadException("trainable.assembly", $"'{path}' is relative; give an absolute path on the workers or upload the assembly with the experiment");
        }

        if (!File.Exists(path))
        {
            throw new TrainableLoadException("trainable.assembly", $"'{path}' does not exist on {Environment.MachineName}");
        }

        var context = new LoadContext(path);
        try
        {
            Assembly assembly;
            try
            {
                assembly = context.LoadFromAssemblyPath(path);
            }
            catch (BadImageFormatException ex)
            {
                throw new TrainableLoadException("trainable.assembly", $"'{path}' is not a .NET assembly: {ex.Message}");
            }

            CheckSharedVersions(assembly);
            var typeName = spec.Type ?? throw new TrainableLoadException("trainable.type", "is required with assembly");
            var type = assembly.GetType(typeName, throwOnError: false);
            if (type is null)
            {
                var found = TrainableTypes(assembly);
                throw new TrainableLoadException("trainable.type", $"'{typeName}' is not in {Path.GetFileName(path)}; trainables there: {(found.Count == 0 ? "none (no public class implements Tuner.Core.Trainables.ITrainable)" : string.Join(", ", found))}");
            }

            if (!typeof(ITrainable).IsAssignableFrom(type) || type.IsAbstract)
            {
                throw new TrainableLoadException("trainable.type", $"'{typeName}' does not implement Tuner.Core.Trainables.ITrainable as a concrete class");
            }

            if (type.GetConstructor(Type.EmptyTypes) is null)
            {
                throw new TrainableLoadException("trainable.type", $"'{typeName}' needs a public constructor without parameters");
            }

            var descriptor = new TrainableDescriptor(
                type.FullName!,
                $"{type.FullName} from {Path.GetFileName(path)}",
                [],
                [],
                () => (ITrainable)Activator.CreateInstance(type)!,
                AcceptsAnyParameters: true);
            return new TrainableAssembly(context, descriptor);
        }
        catch
        {
            context.Unload();
            throw;
        }
    }

    /// <summary>Checks that the assembly can load here, and unloads it: for validating a submission.</summary>
    public static void Probe(CustomTrainableSpec spec) => Load(spec).Dispose();

    /// <summary>A weak reference to the load context, alive until the runtime has unloaded it.</summary>
    public WeakReference ContextReference() => new(_context);

    public void Dispose() => _context.Unload();

    private static List<string> TrainableTypes(Assembly assembly)
    {
        try
        {
            return [.. assembly.GetExportedTypes().Where(t => typeof(ITrainable).IsAssignableFrom(t) && !t.IsAbstract).Select(t => t.FullName!).Order(StringComparer.Ordinal)];
        }
        catch (ReflectionTypeLoadException)
        {
            return [];
        }
    }

    /// <summary>
    /// A library built against a newer Tuner.Core (or any shared assembly) than this host has would
    /// fail later with a missing method; say so now, naming both versions.
    /// </summary>
    private static void CheckSharedVersions(Assembly assembly)
    {
        foreach (var reference in assembly.GetReferencedAssemblies())
        {
            if (LoadContext.HostVersion(reference) is { } hostVersion && reference.Version is { } wanted && wanted > hostVersion)
            {
                throw new TrainableLoadException(
                    "trainable.assembly",
                    $"{assembly.GetName().Name} was built against {reference.Name} {wanted}, but this host has {reference.Name} {hostVersion}; rebuild it against {hostVersion} or upgrade the workers");
            }
        }
    }

    private sealed class LoadContext(string mainAssembly) : AssemblyLoadContext($"trainable:{Path.GetFileName(mainAssembly)}", isCollectible: true)
    {
        private static readonly Lazy<Dictionary<string, string>> HostAssemblies = new(() =>
            ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? string.Empty)
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .GroupBy(p => Path.GetFileNameWithoutExtension(p), StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase));

        private readonly AssemblyDependencyResolver _resolver = new(mainAssembly);

        /// <summary>The version of an assembly the host shares (loaded in the default context, or on its trusted list), else null.</summary>
        public static Version? HostVersion(AssemblyName name)
        {
            var loaded = Default.Assemblies.FirstOrDefault(a => string.Equals(a.GetName().Name, name.Name, StringComparison.OrdinalIgnoreCase));
            if (loaded is not null)
            {
                return loaded.GetName().Version;
            }

            return name.Name is { } simple && HostAssemblies.Value.TryGetValue(simple, out var path) ? AssemblyName.GetAssemblyName(path).Version : null;
        }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            // Shared with the host (null: the default context loads it), so ITrainable is one type on both sides.
            if (HostVersion(assemblyName) is not null)
            {
                return null;
            }

            return _resolver.ResolveAssemblyToPath(assemblyName) is { } path ? LoadFromAssemblyPath(path) : null;
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
            _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}

/// <summary>A custom trainable could not be loaded; <see cref="Field"/> is the spec field at fault.</summary>
public sealed class TrainableLoadException(string field, string message) : Exception($"{field}: {message}")
{
    public string Field { get; } = field;

    public string Reason { get; } = message;
}
