using Tuner.Core.Spec;
using Tuner.Core.Trainables;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>
/// A custom trainable's paths must be absolute (they are read on the workers); an assembly this host
/// can see is loaded once at submission, so that a missing type or a version conflict fails the
/// submission rather than every trial.
/// </summary>
internal static class CustomTrainableCheck
{
    public static IEnumerable<SpecError> Errors(ExperimentSpec spec)
    {
        switch (spec.Custom)
        {
            case { IsCommand: true, WorkingDir: { } dir } when !Path.IsPathFullyQualified(dir):
                yield return new SpecError("trainable.working_dir", $"'{dir}' is relative; the client resolves it against the spec's folder, a request must give it absolute");
                break;
            case { IsCommand: false, Assembly: { } assembly } custom when SpecValidator.Validate(spec with { Custom = custom }).All(e => !e.Path.StartsWith("trainable", StringComparison.Ordinal)):
                SpecError? error = null;
                try
                {
                    if (!Path.IsPathFullyQualified(assembly) || File.Exists(assembly))
                    {
                        TrainableAssembly.Probe(custom);
                    }
                }
                catch (TrainableLoadException ex)
                {
                    error = new SpecError(ex.Field, ex.Reason);
                }

                if (error is not null)
                {
                    yield return error;
                }

                break;
        }
    }
}
