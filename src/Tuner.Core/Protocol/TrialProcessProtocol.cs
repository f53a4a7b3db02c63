using System.Globalization;
using System.Text;
using System.Text.Json;
using Tuner.Core.Results;
using Tuner.Core.Space;

namespace Tuner.Core.Protocol;

/// <summary>
/// How a worker and a trial's own process talk, as Ray's worker processes do with the tuner. The
/// worker starts the process with the environment below; the process writes its hyperparameters'
/// results to standard output as lines <c>TUNER_REPORT {json object}</c> (numbers are metrics;
/// <c>"done": true</c> says it finished) and, after saving a checkpoint into a folder under
/// <c>TUNER_CHECKPOINT_DIR</c>, <c>TUNER_CHECKPOINT {"path": "folder"}</c>, which belongs to the last
/// report; folders are named so that their names sort by iteration (<c>checkpoint_000012</c>), and the
/// older ones beyond the number to keep are removed in that order. Other output is the process's own. A stop or pause is SIGTERM: save a checkpoint, announce
/// it, exit 0. SIGKILL follows after a grace period. Any other exit than 0 is a failed attempt; the
/// retry starts with <c>TUNER_RESTORE_FROM</c> naming the last announced checkpoint.
/// </summary>
public static class TrialProcessProtocol
{
    /// <summary>A JSON file holding the trial's config: one property per hyperparameter.</summary>
    public const string ConfigFileVariable = "TUNER_CONFIG_FILE";

    public const string TrialIdVariable = "TUNER_TRIAL_ID";

    /// <summary>The folder the process saves checkpoints under, one sub-folder each.</summary>
    public const string CheckpointDirVariable = "TUNER_CHECKPOINT_DIR";

    /// <summary>The checkpoint folder to continue from; unset on a fresh start.</summary>
    public const string RestoreFromVariable = "TUNER_RESTORE_FROM";

    /// <summary>Iterations already reported (0 on a fresh start): the next report is this plus one.</summary>
    public const string IterationVariable = "TUNER_ITERATION";

    /// <summary>Save a checkpoint every this many iterations; 0: only when stopped.</summary>
    public const string CheckpointFrequencyVariable = "TUNER_CHECKPOINT_FREQUENCY";

    public const string TrainableVariable = "TUNER_TRAINABLE";

    public const string SeedVariable = "TUNER_SEED";

    /// <summary>1 for the first attempt, higher for retries.</summary>
    public const string AttemptVariable = "TUNER_ATTEMPT";

    /// <summary><c>cpu</c>, or <c>cuda:N</c> for the GPU granted (the only one visible to the process).</summary>
    public const string DeviceVariable = "TUNER_DEVICE";

    /// <summary>CPU threads the trial may use: the CPU slots it was granted.</summary>
    public const string ThreadsVariable = "TUNER_THREADS";

    public const string ReportPrefix = "TUNER_REPORT ";

    public const string CheckpointPrefix = "TUNER_CHECKPOINT ";

    /// <summary>The report key that says the trial finished.</summary>
    public const string DoneKey = "done";

    public static string FormatReport(IReadOnlyDictionary<string, double> metrics, bool done) =>
        ReportPrefix + Json(w =>
        {
            foreach (var (name, value) in metrics)
            {
                ResultJson.WriteNumber(w, name, value);
            }

            if (done)
            {
                w.WriteBoolean(DoneKey, true);
            }
        });

    public static string FormatCheckpoint(string path) => CheckpointPrefix + Json(w => w.WriteString("path", path));

    /// <summary>
    /// A report, a checkpoint announcement, or null for any other line. A line with a prefix but a
    /// body that is not a JSON object fails with a <see cref="FormatException"/> saying so.
    /// </summary>
    public static ProtocolMessage? Parse(string line)
    {
        if (line.StartsWith(ReportPrefix, StringComparison.Ordinal))
        {
            using var doc = Object(line, ReportPrefix);
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            var done = false;
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == DoneKey)
                {
                    done = property.Value.ValueKind == JsonValueKind.True;
                }
                else if (Number(property.Value) is { } value)
                {
                    metrics[property.Name] = value;
                }
            }

            return new ProtocolMessage.Report(metrics, done);
        }

        if (line.StartsWith(CheckpointPrefix, StringComparison.Ordinal))
        {
            using var doc = Object(line, CheckpointPrefix);
            return doc.RootElement.TryGetProperty("path", out var path) && path.ValueKind == JsonValueKind.String && path.GetString() is { Length: > 0 } p
                ? new ProtocolMessage.Checkpoint(p)
                : throw new FormatException($"{CheckpointPrefix.Trim()} needs {{\"path\": \"<folder>\"}}, got: {Shorten(line)}");
        }

        return null;
    }

    public static void WriteConfig(string path, TrialConfig config)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = ResultJson.Encoder, Indented = true });
        w.WriteStartObject();
        foreach (var (name, value) in config)
        {
            w.WritePropertyName(name);
            value.WriteTo(w);
        }

        w.WriteEndObject();
    }

    public static TrialConfig ReadConfig(string path)
    {
        try
        {
            return TrialConfigJson.Read(File.ReadAllBytes(path));
        }
        catch (FormatException ex)
        {
            throw new FormatException($"{path}: {ex.Message}", ex);
        }
    }

    private static double? Number(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    private static readonly System.Text.RegularExpressions.Regex BareLiteral = new(@"(?<=[:\[,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])");

    private static JsonDocument Object(string line, string prefix, bool bareLiteralsQuoted = false)
    {
        try
        {
            var doc = JsonDocument.Parse(line.AsMemory(prefix.Length));
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                return doc;
            }

            doc.Dispose();
        }
        catch (JsonException) when (!bareLiteralsQuoted && BareLiteral.IsMatch(line))
        {
            // Python's json.dumps writes NaN and infinities as bare NaN / Infinity: read them as the numbers they mean.
            return Object(prefix + BareLiteral.Replace(line[prefix.Length..], "\"$1\""), prefix, bareLiteralsQuoted: true);
        }
        catch (JsonException)
        {
        }

        throw new FormatException($"{prefix.Trim()} must be followed by one JSON object on the same line, got: {Shorten(line)}");
    }

    private static string Shorten(string line) => line.Length <= 200 ? line : line[..200] + "...";

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = ResultJson.Encoder }))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}

/// <summary>A line of a trial process's output that means something to the worker.</summary>
public abstract record ProtocolMessage
{
    private ProtocolMessage()
    {
    }

    /// <summary>One iteration's metrics.</summary>
    public sealed record Report(IReadOnlyDictionary<string, double> Metrics, bool Done) : ProtocolMessage;

    /// <summary>A checkpoint folder saved after the last report.</summary>
    public sealed record Checkpoint(string Path) : ProtocolMessage;
}
