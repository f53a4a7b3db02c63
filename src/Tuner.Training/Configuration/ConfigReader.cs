using System.Globalization;
using Tuner.Core.Space;

namespace Tuner.Training.Configuration;

/// <summary>
/// Reads a trial's hyperparameters with their defaults and checks them; a bad value fails with a
/// <see cref="ConfigException"/> naming the key, what it got and what is allowed.
/// </summary>
public sealed class ConfigReader(TrialConfig config)
{
    public TrialConfig Config { get; } = config;

    public double Positive(string key, double fallback) =>
        Check(key, Number(key, fallback), v => v > 0 && double.IsFinite(v), "must be a positive number");

    public double NonNegative(string key, double fallback) =>
        Check(key, Number(key, fallback), v => v >= 0 && double.IsFinite(v), "must be zero or more");

    /// <summary>Strictly between 0 and 1.</summary>
    public double Fraction(string key, double fallback) =>
        Check(key, Number(key, fallback), v => v is > 0 and < 1, "must be between 0 and 1 (exclusive)");

    /// <summary>A dropout-like probability: 0 up to, not including, 1.</summary>
    public double Probability(string key, double fallback) =>
        Check(key, Number(key, fallback), v => v is >= 0 and < 1, "must be at least 0 and less than 1");

    public int Integer(string key, int fallback, int min, int max)
    {
        long value;
        try
        {
            value = Config.GetInteger(key, fallback);
        }
        catch (InvalidCastException ex)
        {
            throw new ConfigException(key, $"must be a whole number from {min} to {max}: {ex.Message}");
        }

        return value >= min && value <= max ? (int)value : throw new ConfigException(key, $"must be a whole number from {min} to {max}, got {value}");
    }

    public bool Boolean(string key, bool fallback)
    {
        try
        {
            return Config.TryGetValue(key, out var v) ? v.AsBoolean() : fallback;
        }
        catch (InvalidCastException ex)
        {
            throw new ConfigException(key, $"must be true or false: {ex.Message}");
        }
    }

    /// <summary>One of <paramref name="allowed"/> (compared ordinally).</summary>
    public string Choice(string key, string fallback, IReadOnlyList<string> allowed)
    {
        var value = Config.GetString(key, fallback);
        return allowed.Contains(value, StringComparer.Ordinal)
            ? value
            : throw new ConfigException(key, $"'{value}' is not one of the allowed values: {string.Join(", ", allowed)}");
    }

    private double Number(string key, double fallback)
    {
        try
        {
            return Config.GetDouble(key, fallback);
        }
        catch (InvalidCastException ex)
        {
            throw new ConfigException(key, $"must be a number: {ex.Message}");
        }
    }

    private static double Check(string key, double value, Func<double, bool> valid, string rule) =>
        valid(value) ? value : throw new ConfigException(key, $"{rule}, got {value.ToString("R", CultureInfo.InvariantCulture)}");
}

/// <summary>A hyperparameter a trainable cannot use; the message starts with the key.</summary>
public sealed class ConfigException(string key, string problem) : ArgumentException($"{key}: {problem}")
{
    public string Key { get; } = key;
}
