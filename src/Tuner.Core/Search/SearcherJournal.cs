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

    public SearcherJournal(ISearcher inner, TextWriter? log)
    {
        _inner = inner;
        _log = log;
    }

    public bool IsExhausted => _inner.IsExhausted;

    public bool LearnsFromResults => _inner.LearnsFromResults;

    public bool TrySuggest(string trialId, out TrialConfig config)
    {
        if (!_inner.TrySuggest(trialId, out config))
        {
            return false;
        }

        var suggested = config;
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
    public static SearcherJournal Restore(ExperimentSpec spec, IEnumerable<string> lines, TextWriter? log)
    {
        var inner = SearcherFactory.Create(spec);
        var number = 0;
        foreach (var line in lines)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
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
                    var recorded = e.GetProperty("config").GetRawText();
                    if (!inner.TrySuggest(trialId, out var config) || Json(config) != recorded)
                    {
                        throw new InvalidDataException($"searcher journal line {number}: trial {trialId} was suggested {recorded}, but the searcher now suggests {(config.Count == 0 ? "nothing" : Json(config))}; the spec or the searcher changed since it was written");
                    }

                    break;
                case "result":
                    inner.OnTrialResult(trialId, new TrialResult(e.GetProperty("training_iteration").GetInt64(), e.GetProperty("time_total_s").GetDouble(), 0, Metrics(e)!));
                    break;
                case "complete":
                    inner.OnTrialComplete(trialId, Metrics(e), e.GetProperty("failed").GetBoolean());
                    break;
            }
        }

        return new SearcherJournal(inner, log);
    }

    private static Dictionary<string, double>? Metrics(JsonElement e) =>
        e.TryGetProperty("metrics", out var metrics) ? metrics.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble(), StringComparer.Ordinal) : null;

    private static string Json(TrialConfig config)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = ResultJson.Encoder }))
        {
            SpecWriter.WriteConfig(w, config);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
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
