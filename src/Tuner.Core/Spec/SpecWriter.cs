using System.Text;
using System.Text.Json;
using Tuner.Core.Space;

namespace Tuner.Core.Spec;

/// <summary>
/// Writes a spec in its public format as JSON, which <see cref="SpecParser"/> reads back (YAML holds
/// JSON). Used for <c>experiment.json</c> and to carry specs between processes.
/// </summary>
public static class SpecWriter
{
    public static string ToJson(ExperimentSpec spec, bool indented = false)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = Results.ResultJson.Encoder }))
        {
            Write(w, spec);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static void Write(Utf8JsonWriter w, ExperimentSpec spec)
    {
        w.WriteStartObject();
        w.WriteString("name", spec.Name);
        if (spec.Custom is { } custom)
        {
            w.WriteStartObject("trainable");
            if (custom.IsCommand)
            {
                w.WriteStartArray("command");
                foreach (var part in custom.Command!)
                {
                    w.WriteStringValue(part);
                }

                w.WriteEndArray();
                if (custom.WorkingDir is { } dir)
                {
                    w.WriteString("working_dir", dir);
                }

                w.WriteStartObject("env");
                foreach (var (name, value) in custom.Env)
                {
                    w.WriteString(name, value);
                }

                w.WriteEndObject();
            }
            else
            {
                w.WriteString("assembly", custom.Assembly);
                w.WriteString("type", custom.Type);
            }

            w.WriteEndObject();
        }
        else
        {
            w.WriteString("trainable", spec.Trainable);
        }

        w.WritePropertyName("params");
        WriteConfig(w, spec.Params);
        if (spec.IsMultiObjective)
        {
            w.WriteStartArray("metric");
            foreach (var objective in spec.Objectives)
            {
                w.WriteStringValue(objective.Metric);
            }

            w.WriteEndArray();
            w.WriteStartArray("mode");
            foreach (var objective in spec.Objectives)
            {
                w.WriteStringValue(ModeName(objective.Mode));
            }

            w.WriteEndArray();
        }
        else
        {
            w.WriteString("metric", spec.Metric);
            w.WriteString("mode", ModeName(spec.Mode));
        }
        w.WriteNumber("samples", spec.Samples);
        w.WriteNumber("max_concurrent", spec.MaxConcurrent);
        if (spec.Durability != Results.Durability.Os)
        {
            w.WriteString("durability", "fsync");
        }
        w.WriteStartObject("search");
        w.WriteString("algorithm", spec.Search.Algorithm);
        w.WriteNumber("seed", spec.Search.Seed);
        w.WriteNumber("repeat", spec.Search.Repeat);
        if (spec.Search.MaxConcurrent is { } limit)
        {
            w.WriteNumber("max_concurrent", limit);
        }

        if (spec.Search.Algorithm == "cmaes" || spec.Search.Sigma0 is not null || spec.Search.Popsize is not null)
        {
            if (spec.Search.Sigma0 is { } sigma0)
            {
                w.WriteNumber("sigma0", sigma0);
            }

            if (spec.Search.Popsize is { } popsize)
            {
                w.WriteNumber("popsize", popsize);
            }

            w.WriteString("restarts", spec.Search.Restarts);
        }

        if (spec.Search.PopulationSize is { } population)
        {
            w.WriteNumber("population_size", population);
        }

        if (spec.Search.PointsToEvaluate.Count > 0)
        {
            w.WriteStartArray("points_to_evaluate");
            foreach (var point in spec.Search.PointsToEvaluate)
            {
                WriteConfig(w, point);
            }

            w.WriteEndArray();
        }

        if (spec.Search.Evaluated.Count > 0)
        {
            w.WriteStartArray("evaluated");
            foreach (var evaluated in spec.Search.Evaluated)
            {
                w.WriteStartObject();
                w.WritePropertyName("config");
                WriteConfig(w, evaluated.Config);
                w.WriteStartObject("metrics");
                foreach (var (name, value) in evaluated.Metrics)
                {
                    w.WriteNumber(name, value);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
        w.WriteStartObject("scheduler");
        w.WriteString("algorithm", spec.Scheduler.Algorithm);
        w.WriteString("time_attr", spec.Scheduler.TimeAttr);
        w.WriteNumber("max_t", spec.Scheduler.MaxT);
        w.WriteNumber("grace_period", spec.Scheduler.GracePeriod);
        w.WriteNumber("reduction_factor", spec.Scheduler.ReductionFactor);
        w.WriteNumber("min_samples_required", spec.Scheduler.MinSamplesRequired);
        w.WriteNumber("perturbation_interval", spec.Scheduler.PerturbationInterval);
        w.WriteNumber("quantile_fraction", spec.Scheduler.QuantileFraction);
        w.WriteNumber("resample_probability", spec.Scheduler.ResampleProbability);
        w.WriteEndObject();
        w.WriteStartObject("stop");
        if (spec.Stop.TrainingIteration is { } iterations)
        {
            w.WriteNumber("training_iteration", iterations);
        }

        if (spec.Stop.MetricThreshold is { } threshold)
        {
            w.WriteNumber("metric_threshold", threshold);
        }

        if (spec.Stop.TimeBudgetS is { } budget)
        {
            w.WriteNumber("time_budget_s", budget);
        }

        if (spec.Stop.TrialPlateau is { } trialPlateau)
        {
            w.WriteStartObject("trial_plateau");
            WriteOptional(w, "metric", trialPlateau.Metric);
            w.WriteNumber("std", trialPlateau.Std);
            w.WriteNumber("num_results", trialPlateau.NumResults);
            w.WriteNumber("grace_period", trialPlateau.GracePeriod);
            if (trialPlateau.MetricThreshold is { } plateauThreshold)
            {
                w.WriteNumber("metric_threshold", plateauThreshold);
            }

            WriteOptional(w, "mode", trialPlateau.Mode is { } trialMode ? ModeName(trialMode) : null);
            w.WriteEndObject();
        }

        if (spec.Stop.ExperimentPlateau is { } experimentPlateau)
        {
            w.WriteStartObject("experiment_plateau");
            WriteOptional(w, "metric", experimentPlateau.Metric);
            w.WriteNumber("top", experimentPlateau.Top);
            w.WriteNumber("std", experimentPlateau.Std);
            w.WriteNumber("patience", experimentPlateau.Patience);
            WriteOptional(w, "mode", experimentPlateau.Mode is { } experimentMode ? ModeName(experimentMode) : null);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteStartObject("resources");
        w.WriteNumber("cpu", spec.Resources.Cpu);
        w.WriteNumber("gpu", spec.Resources.Gpu);
        w.WriteEndObject();
        w.WriteStartObject("failure");
        w.WriteNumber("max_failures", spec.Failure.MaxFailures);
        w.WriteEndObject();
        w.WriteStartObject("checkpoint");
        w.WriteNumber("frequency", spec.Checkpoint.Frequency);
        w.WriteNumber("keep", spec.Checkpoint.Keep);
        w.WriteEndObject();
        w.WriteStartObject("loggers");
        w.WriteBoolean("tensorboard", spec.Loggers.TensorBoard);
        if (spec.Loggers.Mlflow is { } mlflow)
        {
            w.WriteStartObject("mlflow");
            w.WriteString("tracking_uri", mlflow.TrackingUri);
            if (mlflow.Experiment is { } experiment)
            {
                w.WriteString("experiment", experiment);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteStartObject("space");
        foreach (var (name, domain) in spec.Space)
        {
            w.WriteStartObject(name);
            w.WriteStartArray(domain.Primitive);
            switch (domain)
            {
                case UniformDomain d:
                    Numbers(w, d.Low, d.High);
                    break;
                case QUniformDomain d:
                    Numbers(w, d.Low, d.High, d.Q);
                    break;
                case LogUniformDomain d:
                    Numbers(w, d.Low, d.High);
                    break;
                case QLogUniformDomain d:
                    Numbers(w, d.Low, d.High, d.Q);
                    break;
                case NormalDomain d:
                    Numbers(w, d.Mean, d.StandardDeviation);
                    break;
                case RandIntDomain d:
                    Integers(w, d.Low, d.High);
                    break;
                case QRandIntDomain d:
                    Integers(w, d.Low, d.High, d.Q);
                    break;
                case LogRandIntDomain d:
                    Integers(w, d.Low, d.High);
                    break;
                case ChoiceDomain d:
                    d.Values.ToList().ForEach(v => v.WriteTo(w));
                    break;
                case GridDomain d:
                    d.Values.ToList().ForEach(v => v.WriteTo(w));
                    break;
                default:
                    throw new NotSupportedException($"no writer for domain {domain.GetType().Name}");
            }

            w.WriteEndArray();
            if (spec.Space.ConditionOf(name) is { } when)
            {
                w.WriteStartObject("when");
                if (when.Values is { } values)
                {
                    w.WriteStartArray(when.Parent);
                    foreach (var value in values)
                    {
                        value.WriteTo(w);
                    }

                    w.WriteEndArray();
                }
                else
                {
                    w.WriteStartObject(when.Parent);
                    if (when.Min is { } min)
                    {
                        w.WriteNumber("min", min);
                    }

                    if (when.Max is { } max)
                    {
                        w.WriteNumber("max", max);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static void WriteConfig(Utf8JsonWriter w, TrialConfig config)
    {
        w.WriteStartObject();
        foreach (var (key, value) in config)
        {
            w.WritePropertyName(key);
            value.WriteTo(w);
        }

        w.WriteEndObject();
    }

    private static string ModeName(OptimizationMode mode) => mode == OptimizationMode.Min ? "min" : "max";

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static void Numbers(Utf8JsonWriter w, params double[] values)
    {
        foreach (var v in values)
        {
            w.WriteNumberValue(v);
        }
    }

    private static void Integers(Utf8JsonWriter w, params long[] values)
    {
        foreach (var v in values)
        {
            w.WriteNumberValue(v);
        }
    }
}
