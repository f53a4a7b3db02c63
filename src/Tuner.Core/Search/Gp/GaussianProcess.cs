namespace Tuner.Core.Search.Gp;

/// <summary>
/// A Gaussian process on the unit cube with a Matérn 5/2 kernel, one length scale per dimension
/// (ARD), unit signal variance on standardised targets and a small noise term. Length scales are
/// chosen by maximising the log marginal likelihood, coordinate by coordinate over a grid.
/// </summary>
internal sealed class GaussianProcess
{
    private static readonly double[] LengthGrid = [0.03, 0.06, 0.1, 0.15, 0.25, 0.4, 0.6, 1.0, 2.0];
    private const double Noise = 1e-6;

    private readonly double[][] _x;
    private readonly double[] _lengths;
    private readonly double[,] _cholesky;
    private readonly double[] _alpha;

    private GaussianProcess(double[][] x, double[] lengths, double[,] cholesky, double[] alpha)
    {
        _x = x;
        _lengths = lengths;
        _cholesky = cholesky;
        _alpha = alpha;
    }

    /// <summary>Fits to points in [0, 1]^d and standardised targets.</summary>
    public static GaussianProcess Fit(double[][] x, double[] y)
    {
        var d = x[0].Length;
        var lengths = Enumerable.Repeat(0.25, d).ToArray();
        var best = LogLikelihood(x, y, lengths);
        for (var sweep = 0; sweep < 2; sweep++)
        {
            for (var j = 0; j < d; j++)
            {
                var keep = lengths[j];
                foreach (var candidate in LengthGrid)
                {
                    lengths[j] = candidate;
                    var value = LogLikelihood(x, y, lengths);
                    if (value > best)
                    {
                        best = value;
                        keep = candidate;
                    }
                }

                lengths[j] = keep;
            }
        }

        var l = Cholesky(Covariance(x, lengths)) ?? throw new InvalidOperationException("the covariance is not positive definite");
        return new GaussianProcess(x, lengths, l, Solve(l, y));
    }

    /// <summary>The posterior mean and standard deviation at <paramref name="point"/>.</summary>
    public (double Mean, double Sd) Predict(double[] point)
    {
        var n = _x.Length;
        var k = new double[n];
        var mean = 0.0;
        for (var i = 0; i < n; i++)
        {
            k[i] = Kernel(_x[i], point, _lengths);
            mean += k[i] * _alpha[i];
        }

        // v = L^-1 k; variance = k(x, x) - v.v
        var v = ForwardSubstitute(_cholesky, k);
        var variance = 1.0 + Noise - v.Sum(e => e * e);
        return (mean, Math.Sqrt(Math.Max(variance, 1e-12)));
    }

    private static double LogLikelihood(double[][] x, double[] y, double[] lengths)
    {
        if (Cholesky(Covariance(x, lengths)) is not { } l)
        {
            return double.NegativeInfinity;
        }

        var alpha = Solve(l, y);
        var fit = 0.0;
        for (var i = 0; i < y.Length; i++)
        {
            fit += y[i] * alpha[i];
        }

        var logDet = 0.0;
        for (var i = 0; i < y.Length; i++)
        {
            logDet += Math.Log(l[i, i]);
        }

        return (-0.5 * fit) - logDet;
    }

    private static double Kernel(double[] a, double[] b, double[] lengths)
    {
        var r2 = 0.0;
        for (var j = 0; j < a.Length; j++)
        {
            var diff = (a[j] - b[j]) / lengths[j];
            r2 += diff * diff;
        }

        var r = Math.Sqrt(5 * r2);
        return (1 + r + (5 * r2 / 3)) * Math.Exp(-r);
    }

    private static double[,] Covariance(double[][] x, double[] lengths)
    {
        var n = x.Length;
        var k = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            k[i, i] = 1 + Noise;
            for (var j = 0; j < i; j++)
            {
                k[i, j] = k[j, i] = Kernel(x[i], x[j], lengths);
            }
        }

        return k;
    }

    private static double[,]? Cholesky(double[,] a)
    {
        var n = a.GetLength(0);
        var l = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = a[i, j];
                for (var k = 0; k < j; k++)
                {
                    sum -= l[i, k] * l[j, k];
                }

                if (i == j)
                {
                    if (sum <= 0)
                    {
                        return null;
                    }

                    l[i, i] = Math.Sqrt(sum);
                }
                else
                {
                    l[i, j] = sum / l[j, j];
                }
            }
        }

        return l;
    }

    private static double[] ForwardSubstitute(double[,] l, double[] b)
    {
        var n = b.Length;
        var z = new double[n];
        for (var i = 0; i < n; i++)
        {
            var sum = b[i];
            for (var k = 0; k < i; k++)
            {
                sum -= l[i, k] * z[k];
            }

            z[i] = sum / l[i, i];
        }

        return z;
    }

    /// <summary>Solves (L L^T) a = b.</summary>
    private static double[] Solve(double[,] l, double[] b)
    {
        var z = ForwardSubstitute(l, b);
        var n = b.Length;
        var a = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var sum = z[i];
            for (var k = i + 1; k < n; k++)
            {
                sum -= l[k, i] * a[k];
            }

            a[i] = sum / l[i, i];
        }

        return a;
    }
}
