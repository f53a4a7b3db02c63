using System.Globalization;
using System.Text.Json;

namespace Tuner.Reports;

/// <summary>
/// What the report computes from a run folder: the budget that comparisons are made at (Hyperband and
/// ASHA stop most trials early, and a trial's value after one epoch is not comparable with another's
/// after fifty), each trial's value there, how much of the metric's variance each parameter explains
/// on its own, and two-parameter grids of mean values.
/// </summary>
public sealed class RunAnalysis
{
    private const int NumericBins = 5;

    public RunAnalysis(RunFolder run)
    {
        Run = run;
        var reached = run.Trials.SelectMany(t => t.Results.Select(r => r.Iteration).Distinct()).GroupBy(i => i).ToDictionary(g => g.Key, g => g.Count());
        var withResults = run.Trials.Count(t => t.Results.Count > 0);
        var needed = Math.Max(3, (int)Math.Ceiling(0.2 * withResults));
        Budget = reached.Where(r => r.Value >= Math.Min(needed, withResults)).Select(r => r.Key).DefaultIfEmpty(0).Max();
        AtBudget = [.. run.Trials.Where(t => t.ValueAt(Budget) is not null).Select(t => (t, t.ValueAt(Budget)!.Value))];
        Importance = [.. run.Parameters.Select(p => (p, MainEffect(p))).Where(x => x.Item2 is not null).Select(x => (x.p, x.Item2!.Value)).OrderByDescending(x => x.Item2)];
    }

    public RunFolder Run { get; }

    /// <summary>The iteration comparisons are made at: the highest one enough trials reached (at least 3, or a fifth of them).</summary>
    public long Budget { get; }

    /// <summary>The trials that reached <see cref="Budget"/>, with their value there.</summary>
    public IReadOnlyList<(ReportTrial Trial, double Value)> AtBudget { get; }

    /// <summary>Each parameter's share of the variance of the values at the budget explained by it alone (binned), highest first.</summary>
    public IReadOnlyList<(string Parameter, double Share)> Importance { get; }

    public bool IsNumeric(string parameter) => Run.Trials.All(t => !t.Config.TryGetValue(parameter, out var v) || v.ValueKind == JsonValueKind.Number);

    public static string Label(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble().ToString("G4", CultureInfo.InvariantCulture),
        JsonValueKind.String => value.GetString()!,
        _ => value.GetRawText(),
    };

    /// <summary>
    /// The bins of a parameter over the trials at the budget: a numeric one in up to five ranges of equal
    /// count (log-spaced values rank the same), a categorical one by value. Each trial's bin index.
    /// </summary>
    public (IReadOnlyList<string> Labels, Dictionary<string, int> BinOf) Bins(string parameter)
    {
        var values = AtBudget.Where(x => x.Trial.Config.ContainsKey(parameter)).Select(x => (x.Trial.Id, Value: x.Trial.Config[parameter])).ToList();
        if (!IsNumeric(parameter))
        {
            var labels = values.Select(v => Label(v.Value)).Distinct().Order(StringComparer.Ordinal).ToList();
            return (labels, values.ToDictionary(v => v.Id, v => labels.IndexOf(Label(v.Value))));
        }

        var sorted = values.OrderBy(v => v.Value.GetDouble()).ToList();
        var bins = Math.Min(NumericBins, sorted.Select(v => v.Value.GetDouble()).Distinct().Count());
        var binOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var edges = new List<(double Low, double High)>();
        for (var b = 0; b < bins; b++)
        {
            var members = sorted.Skip(b * sorted.Count / bins).Take(((b + 1) * sorted.Count / bins) - (b * sorted.Count / bins)).ToList();
            foreach (var m in members)
            {
                binOf[m.Id] = b;
            }

            edges.Add((members[0].Value.GetDouble(), members[^1].Value.GetDouble()));
        }

        return ([.. edges.Select(e => e.Low == e.High ? e.Low.ToString("G3", CultureInfo.InvariantCulture) : $"{e.Low.ToString("G3", CultureInfo.InvariantCulture)}–{e.High.ToString("G3", CultureInfo.InvariantCulture)}")], binOf);
    }

    /// <summary>Mean value per cell of two parameters' bins (NaN where no trial fell), from the trials at the budget only.</summary>
    public (double[,] Means, int[,] Counts, IReadOnlyList<string> XLabels, IReadOnlyList<string> YLabels) Grid(string x, string y)
    {
        var (xLabels, xBin) = Bins(x);
        var (yLabels, yBin) = Bins(y);
        var sums = new double[yLabels.Count, xLabels.Count];
        var counts = new int[yLabels.Count, xLabels.Count];
        foreach (var (trial, value) in AtBudget)
        {
            if (xBin.TryGetValue(trial.Id, out var i) && yBin.TryGetValue(trial.Id, out var j))
            {
                sums[j, i] += value;
                counts[j, i]++;
            }
        }

        var means = new double[yLabels.Count, xLabels.Count];
        for (var j = 0; j < yLabels.Count; j++)
        {
            for (var i = 0; i < xLabels.Count; i++)
            {
                means[j, i] = counts[j, i] == 0 ? double.NaN : sums[j, i] / counts[j, i];
            }
        }

        return (means, counts, xLabels, yLabels);
    }

    /// <summary>Between-bin variance over total variance of the values at the budget; null when it cannot be told (too few trials, one value).</summary>
    private double? MainEffect(string parameter)
    {
        if (AtBudget.Count < 3)
        {
            return null;
        }

        var (labels, binOf) = Bins(parameter);
        if (labels.Count < 2)
        {
            return null;
        }

        var values = AtBudget.Where(x => binOf.ContainsKey(x.Trial.Id)).ToList();
        var mean = values.Average(x => x.Value);
        var total = values.Sum(x => (x.Value - mean) * (x.Value - mean));
        if (total <= 0)
        {
            return null;
        }

        var between = values.GroupBy(x => binOf[x.Trial.Id]).Sum(g => g.Count() * Math.Pow(g.Average(x => x.Value) - mean, 2));
        return between / total;
    }
}
