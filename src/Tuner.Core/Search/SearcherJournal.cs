using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Tuner.Core.Experiments;
using Tuner.Core.Results;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Search;

/// <summary>
/// Saves a searcher's state as the journal of what it was told and what it suggested, one JSON line
/// per event (in the experiment's <c>journal.jsonl</c>): <c>suggest</c> (trial and config), <c>result</c>
/// (for searchers that learn from intermediate results: BOHB) and <c>complete</c> (last metrics, or
/// failed). Searchers are deterministic given their seed and these calls, so <see cref="Restore"/>
/// rebuilds one exactly (model, running trials and random state) by replaying the journal into a
/// new searcher made from the same spec, checking that every suggestion comes out as recorded.
/// </summary>
public sealed class SearcherJournal : ISearcher
{
    private readonly ISearcher _inner;
    private readonly TextWriter? _log;
    private readonly List<int> _ops;

    public SearcherJournal(ISearcher inner, TextWriter? log)
        : this(inner, log, [])
    {
    }

    private SearcherJournal(ISearcher inner, TextWriter? log, List<int> ops)
    {
        _inner = inner;
        _log = log;
        _ops = ops;
    }

    /// <summary>
    /// The calls so far in order, one number each: a trial's index (t00012 is 12) for its suggestion, minus it for its
    /// completion. With the trial table they are all a snapshot needs to rebuild a searcher that does not learn from
    /// intermediate results (<see cref="Rebuild"/>): four bytes a trial, not a journal line.
    /// </summary>
    public IReadOnlyList<int> Ops => _ops;

    /// <summary>Whether <see cref="Ops"/> and the trial table say all the searcher was told (BOHB also learns from every result).</summary>
    public bool CanSnapshot => !_inner.LearnsFromResults;

    private static int IndexOf(string trialId) => int.Parse(trialId.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);

    private static string IdOf(int index) => $"t{index:D5}";

    /// <summary>
    /// A new searcher of <paramref name="spec"/> given the calls <paramref name="ops"/> records: each suggestion must come out
    /// as the trial table has it (<paramref name="trial"/> gives a trial's config, last metrics and whether it failed).
    /// </summary>
    /// <exception cref="InvalidDataException">A suggestion differs from the recorded config (the spec or the searcher changed).</exception>
    public static SearcherJournal Rebuild(ExperimentSpec spec, IReadOnlyList<int> ops, Func<string, (TrialConfig Config, IReadOnlyDictionary<string, double>? LastMetrics, bool Failed)> trial, TextWriter? log)
    {
        var inner = SearcherFactory.Create(spec);
        foreach (var op in ops)
        {
            var trialId = IdOf(Math.Abs(op));
            var (recorded, metrics, failed) = trial(trialId);
            if (op > 0)
            {
                if (!inner.TrySuggest(trialId, out var config) || !Json(config).AsSpan().SequenceEqual(Json(recorded)))
                {
                    throw new InvalidDataException($"snapshot: trial {trialId} was suggested {Text(recorded)}, but the searcher now suggests {(config.Count == 0 ? "nothing" : Text(config))}; the spec or the searcher changed since it was written");
                }
            }
            else
            {
                // As the journal's complete line carries them: finite metrics only.
                inner.OnTrialComplete(trialId, metrics?.Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal), failed);
            }
        }

        return new SearcherJournal(inner, log, [.. ops]);
    }

    public bool IsExhausted => _inner.IsExhausted;

    /// <summary>
    /// The last suggestion made or replayed: a process killed between journaling a suggestion and the trial's creation leaves a
    /// suggestion no trial has, which the restore creates (<see cref="Experiments.Control.ExperimentController.RecoverRunning"/>).
    /// </summary>
    public (string TrialId, TrialConfig Config)? LastSuggestion { get; private set; }

    public bool LearnsFromResults => _inner.LearnsFromResults;

    public bool TrySuggest(string trialId, out TrialConfig config)
    {
        if (!_inner.TrySuggest(trialId, out config))
        {
            return false;
        }

        var suggested = config;
        LastSuggestion = (trialId, config);
        _ops.Add(IndexOf(trialId));
        Write("suggest", trialId, w =>
        {
            w.WritePropertyName("config");
            SpecWriter.WriteConfig(w, suggested);
        });
        return true;
    }

    public void OnTrialResult(string trialId, TrialResult result)
    {
        if (!_inner.LearnsFromResults)
        {
            return;
        }

        _inner.OnTrialResult(trialId, result);
        Write("result", trialId, w =>
        {
            w.WriteNumber("training_iteration", result.TrainingIteration);
            w.WriteNumber("time_total_s", result.TimeTotalS);
            WriteMetrics(w, result.Metrics);
        });
    }

    public void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed)
    {
        _inner.OnTrialComplete(trialId, lastMetrics, failed);
        _ops.Add(-IndexOf(trialId));
        Write("complete", trialId, w =>
        {
            w.WriteBoolean("failed", failed);
            if (lastMetrics is not null)
            {
                WriteMetrics(w, lastMetrics);
            }
        });
    }

    public void Flush() => _log?.Flush();

    /// <summary>
    /// The searcher <paramref name="spec"/> makes, brought to the state the journal's
    /// <paramref name="lines"/> describe; new events go to <paramref name="log"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">A line is not a journal event, or a replayed suggestion differs from the recorded one (the spec or the searcher changed).</exception>
    public static SearcherJournal Restore(ExperimentSpec spec, IEnumerable<string> lines, TextWriter? log) =>
        Restore(spec, Parse(lines), log);

    /// <inheritdoc cref="Restore(ExperimentSpec, IEnumerable{string}, TextWriter?)"/>
    public static SearcherJournal Restore(ExperimentSpec spec, IEnumerable<JsonElement?> lines, TextWriter? log) =>
        Continue(new SearcherJournal(SearcherFactory.Create(spec), null), lines, log);

    /// <summary>Journal lines as JSON; a blank line is null (counted, skipped).</summary>
    private static IEnumerable<JsonElement?> Parse(IEnumerable<string> lines) =>
        lines.Select(line => string.IsNullOrWhiteSpace(line) ? (JsonElement?)null : JsonElement.Parse(line));

    /// <summary><paramref name="from"/> (a new or rebuilt searcher) told the journal's <paramref name="lines"/> (null: a blank line), checked as <see cref="Restore(ExperimentSpec, IEnumerable{string}, TextWriter?)"/> does; new events go to <paramref name="log"/>.</summary>
    public static SearcherJournal Continue(SearcherJournal from, IEnumerable<JsonElement?> lines, TextWriter? log)
    {
        var inner = from._inner;
        var ops = from._ops;
        var last = from.LastSuggestion;
        var number = 0;
        foreach (var line in lines)
        {
            number++;
            if (line is not { } e)
            {
                continue;
            }

            var kind = e.GetProperty("event").GetString();
            if (kind is not ("suggest" or "result" or "complete"))
            {
                // Another journal's line: the experiment's journal holds the scheduler's and its own events too.
                continue;
            }

            var trialId = e.GetProperty("trial").GetString()!;
            switch (kind)
            {
                case "suggest":
                    var recorded = JsonMarshal.GetRawUtf8Value(e.GetProperty("config"));
                    if (!inner.TrySuggest(trialId, out var config) || !Json(config).AsSpan().SequenceEqual(recorded))
                    {
                        throw new InvalidDataException($"searcher journal line {number}: trial {trialId} was suggested {Encoding.UTF8.GetString(recorded)}, but the searcher now suggests {(config.Count == 0 ? "nothing" : Text(config))}; the spec or the searcher changed since it was written");
                    }

                    ops.Add(IndexOf(trialId));
                    last = (trialId, config);
                    break;
                case "result":
                    inner.OnTrialResult(trialId, new TrialResult(e.GetProperty("training_iteration").GetInt64(), e.GetProperty("time_total_s").GetDouble(), 0, Metrics(e)!));
                    break;
                case "complete":
                    inner.OnTrialComplete(trialId, Metrics(e), e.GetProperty("failed").GetBoolean());
                    ops.Add(-IndexOf(trialId));
                    break;
            }
        }

        return new SearcherJournal(inner, log, ops) { LastSuggestion = last };
    }

    private static Dictionary<string, double>? Metrics(JsonElement e) =>
        e.TryGetProperty("metrics", out var metrics) ? metrics.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble(), StringComparer.Ordinal) : null;

    private static string Text(TrialConfig config) => Encoding.UTF8.GetString(Json(config));

    private static byte[] Json(TrialConfig config)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = ResultJson.Encoder }))
        {
            SpecWriter.WriteConfig(w, config);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMetrics(Utf8JsonWriter w, IReadOnlyDictionary<string, double> metrics)
    {
        w.WriteStartObject("metrics");
        foreach (var (name, value) in metrics)
        {
            if (double.IsFinite(value))
            {
                w.WriteNumber(name, value);
            }
        }

        w.WriteEndObject();
    }

    private void Write(string kind, string trialId, Action<Utf8JsonWriter> body)
    {
        if (_log is not null)
        {
            JournalLine.Write(_log, kind, w =>
            {
                w.WriteString("trial", trialId);
                body(w);
            });
        }
    }
}
