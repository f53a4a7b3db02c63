namespace Tuner.Core.Search.Tpe;

/// <summary>
/// A multivariate Parzen estimator over configs: one mixture component per observation plus a prior
/// component, weighted as Optuna weights them (flat for the 25 most recent observations, ramping down
/// for older ones; the prior 1), each component a product of kernels, one per dimension: a truncated
/// normal on a numeric axis, as wide as the larger gap to the observation's neighbours on that axis
/// (hyperopt's and Optuna's univariate rule), clipped to <c>[range / min(100, n+1), range]</c> (the
/// prior's is the range); a categorical distribution (the observed category plus a uniform floor)
/// for a choice. Joint components keep what worked together together; neighbour-gap widths make
/// the kernels sharp where good configs cluster. On the bench this beat Optuna's fixed multivariate
/// width and per-dimension choice of candidates.
/// </summary>
internal sealed class ParzenEstimator
{
    private const double PriorWeight = 1.0;

    private readonly IReadOnlyList<SearchDimension> _dimensions;
    private readonly double[] _logWeights;
    private readonly double[] _cumulative;

    // Per component, per dimension: the mean (numeric) or the observed category (categorical).
    private readonly double[][] _centres;
    private readonly double[][] _sigmas;
    private readonly double[][] _logNormalisers;
    private readonly double[][][] _categoryLogProbabilities;

    public ParzenEstimator(IReadOnlyList<SearchDimension> dimensions, IReadOnlyList<double[]> observations)
    {
        _dimensions = dimensions;
        var n = observations.Count;
        var components = n + 1;
        var weights = ObservationWeights(n).Append(PriorWeight).ToArray();
        var total = weights.Sum();
        _logWeights = [.. weights.Select(w => Math.Log(w / total))];
        _cumulative = new double[components];
        var running = 0.0;
        for (var k = 0; k < components; k++)
        {
            running += weights[k] / total;
            _cumulative[k] = running;
        }

        _centres = new double[components][];
        _sigmas = new double[components][];
        _logNormalisers = new double[components][];
        _categoryLogProbabilities = new double[components][][];
        var gaps = new double[dimensions.Count][];
        for (var d = 0; d < dimensions.Count; d++)
        {
            if (dimensions[d] is NumericDimension numeric)
            {
                gaps[d] = NeighbourGaps([.. observations.Select(o => o[d])], numeric.Low + ((numeric.High - numeric.Low) / 2));
            }
        }

        for (var k = 0; k < components; k++)
        {
            var prior = k == n;
            _centres[k] = new double[dimensions.Count];
            _sigmas[k] = new double[dimensions.Count];
            _logNormalisers[k] = new double[dimensions.Count];
            _categoryLogProbabilities[k] = new double[dimensions.Count][];
            for (var d = 0; d < dimensions.Count; d++)
            {
                switch (dimensions[d])
                {
                    case NumericDimension numeric:
                        // The prior's kernel, and an observation's where the dimension was inactive (NaN).
                        var range = numeric.High - numeric.Low;
                        var wide = prior || double.IsNaN(observations[k][d]);
                        var mu = wide ? numeric.Low + (range / 2) : observations[k][d];
                        var sigma = wide ? range : Math.Clamp(gaps[d]![k], range / Math.Min(100, n + 1), range);
                        _centres[k][d] = mu;
                        _sigmas[k][d] = sigma;
                        _logNormalisers[k][d] = Math.Log(Math.Max(Normal.Cdf((numeric.High - mu) / sigma) - Normal.Cdf((numeric.Low - mu) / sigma), 1e-300)) + Math.Log(sigma) + (0.5 * Math.Log(2 * Math.PI));
                        break;
                    case CategoricalDimension categorical:
                        var count = categorical.Values.Count;
                        var floor = PriorWeight / components;
                        var probabilities = Enumerable.Repeat(floor, count).ToArray();
                        if (!prior && !double.IsNaN(observations[k][d]))
                        {
                            probabilities[(int)observations[k][d]] += 1;
                        }

                        var sum = probabilities.Sum();
                        _categoryLogProbabilities[k][d] = [.. probabilities.Select(p => Math.Log(p / sum))];
                        break;
                }
            }
        }
    }


    /// <summary>
    /// Per observation, the larger of the gaps to its neighbours along one axis, the prior's centre
    /// among them (hyperopt's and Optuna's univariate rule; the ends take their one gap).
    /// </summary>
    private static double[] NeighbourGaps(double[] values, double priorCentre)
    {
        var points = values.Select((v, i) => (Value: v, Index: i)).Where(p => !double.IsNaN(p.Value)).Append((Value: priorCentre, Index: -1)).OrderBy(p => p.Value).ToArray();
        var gaps = new double[values.Length];
        for (var j = 0; j < points.Length; j++)
        {
            if (points[j].Index < 0)
            {
                continue;
            }

            var left = j > 0 ? points[j].Value - points[j - 1].Value : double.NaN;
            var right = j < points.Length - 1 ? points[j + 1].Value - points[j].Value : double.NaN;
            gaps[points[j].Index] = double.IsNaN(left) ? right : double.IsNaN(right) ? left : Math.Max(left, right);
        }

        return gaps;
    }

    /// <summary>Optuna's default weights: 1 for the 25 most recent observations, a ramp from 1/n to 1 before them.</summary>
    public static IEnumerable<double> ObservationWeights(int n)
    {
        if (n < 25)
        {
            return Enumerable.Repeat(1.0, n);
        }

        var ramp = n - 25;
        return Enumerable.Range(0, ramp).Select(i => ramp == 1 ? 1.0 / n : (1.0 / n) + (i * (1 - (1.0 / n)) / (ramp - 1))).Concat(Enumerable.Repeat(1.0, 25));
    }

    public double[] Sample(Random random)
    {
        var k = Component(random);
        var point = new double[_dimensions.Count];
        for (var d = 0; d < _dimensions.Count; d++)
        {

            point[d] = _dimensions[d] switch
            {
                NumericDimension numeric => TruncatedNormal(random, _centres[k][d], _sigmas[k][d], numeric.Low, numeric.High),
                _ => SampleCategory(random, _categoryLogProbabilities[k][d]),
            };
        }

        return point;
    }

    private int Component(Random random)
    {
        var k = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(k < 0 ? ~k : k, _cumulative.Length - 1);
    }

    /// <summary>The log density of a point: log-sum-exp over components of weight x the product of its kernels.</summary>
    public double LogPdf(double[] point)
    {
        var max = double.NegativeInfinity;
        Span<double> terms = _logWeights.Length <= 1024 ? stackalloc double[_logWeights.Length] : new double[_logWeights.Length];
        for (var k = 0; k < _logWeights.Length; k++)
        {
            var sum = _logWeights[k];
            for (var d = 0; d < _dimensions.Count; d++)
            {
                if (_dimensions[d] is NumericDimension)
                {
                    var z = (point[d] - _centres[k][d]) / _sigmas[k][d];
                    sum += (-0.5 * z * z) - _logNormalisers[k][d];
                }
                else
                {
                    sum += _categoryLogProbabilities[k][d][(int)point[d]];
                }
            }

            terms[k] = sum;
            max = Math.Max(max, sum);
        }

        var sumExp = 0.0;
        foreach (var term in terms)
        {
            sumExp += Math.Exp(term - max);
        }

        return max + Math.Log(sumExp);
    }

    private static double TruncatedNormal(Random random, double mu, double sigma, double low, double high)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var x = mu + (sigma * Normal.Sample(random));
            if (x >= low && x <= high)
            {
                return x;
            }
        }

        // A component far outside the bounds: fall back on the bounded range.
        return Math.Clamp(mu, low, high);
    }

    private static double SampleCategory(Random random, double[] logProbabilities)
    {
        var u = random.NextDouble();
        for (var i = 0; i < logProbabilities.Length; i++)
        {
            u -= Math.Exp(logProbabilities[i]);
            if (u <= 0)
            {
                return i;
            }
        }

        return logProbabilities.Length - 1;
    }
}
