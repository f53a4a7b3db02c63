using Tuner.Core.Search.Tpe;

namespace Tuner.Core.Search.CmaEs;

/// <summary>
/// One run of the covariance matrix adaptation evolution strategy on the unit cube, active (mu/mu_w, lambda)-CMA-ES as in
/// Hansen's tutorial (arXiv:1604.00772) and the <c>cmaes</c> library Optuna uses: <see cref="Ask"/> draws a candidate from N(m, sigma^2 C) (redrawn while outside [0, 1]^n, up
/// to 100 times, then clipped, as the <c>cmaes</c> library Optuna uses does; every other draw mirrored, see <see cref="Sample"/>);
/// <see cref="Tell"/> takes a generation of
/// <see cref="Popsize"/> evaluated candidates and updates the mean, the step size (cumulative step-size adaptation) and the
/// covariance (rank-one and rank-mu updates, the worse half of the generation with negative weights). <see cref="ShouldStop"/> applies the library's termination criteria, for restarts.
/// </summary>
internal sealed class CmaEvolution
{
    private const int MaxResampling = 100;
    private const double TolFun = 1e-12;
    private const double TolXUp = 1e4;
    private const double TolConditionCov = 1e14;

    private readonly int _n;
    private readonly double[] _weights;
    private readonly int _mu;
    private readonly double _muEff;
    private readonly double _cSigma;
    private readonly double _dSigma;
    private readonly double _cC;
    private readonly double _c1;
    private readonly double _cMu;
    private readonly double _chiN;
    private readonly double _tolX;
    private readonly int _funHistTerm;
    private readonly double[] _funHist;

    private readonly double[] _mean;
    private readonly double[,] _c;
    private readonly double[] _pSigma;
    private readonly double[] _pC;
    private double[,] _b;
    private double[] _d;
    private double _sigma;

    public CmaEvolution(double[] mean, double sigma, int popsize)
    {
        _n = mean.Length;
        Popsize = popsize;
        _mean = [.. mean];
        _sigma = sigma;
        _tolX = 1e-12 * sigma;

        // Weights for all lambda candidates: the best mu positive (summing to 1), the rest negative (active CMA-ES).
        _mu = popsize / 2;
        var raw = Enumerable.Range(1, popsize).Select(i => Math.Log((popsize + 1) / 2.0) - Math.Log(i)).ToArray();
        _muEff = Math.Pow(raw.Take(_mu).Sum(), 2) / raw.Take(_mu).Sum(w => w * w);
        var muEffMinus = Math.Pow(raw.Skip(_mu).Sum(), 2) / Math.Max(raw.Skip(_mu).Sum(w => w * w), 1e-300);

        const double alphaCov = 2;
        _c1 = alphaCov / (((_n + 1.3) * (_n + 1.3)) + _muEff);
        _cMu = Math.Min(1 - _c1 - 1e-8, alphaCov * (_muEff - 2 + (1 / _muEff)) / (((_n + 2) * (_n + 2)) + (alphaCov * _muEff / 2)));
        var minAlpha = Math.Min(1 + (_c1 / _cMu), Math.Min(1 + (2 * muEffMinus / (_muEff + 2)), (1 - _c1 - _cMu) / (_n * _cMu)));
        var positive = raw.Where(w => w > 0).Sum();
        var negative = raw.Where(w => w < 0).Sum(w => -w);
        _weights = [.. raw.Select(w => w >= 0 ? w / positive : minAlpha / negative * w)];

        _cSigma = (_muEff + 2) / (_n + _muEff + 5);
        _dSigma = 1 + (2 * Math.Max(0, Math.Sqrt((_muEff - 1) / (_n + 1)) - 1)) + _cSigma;
        _cC = (4 + (_muEff / _n)) / (_n + 4 + (2 * _muEff / _n));
        _chiN = Math.Sqrt(_n) * (1 - (1.0 / (4 * _n)) + (1.0 / (21.0 * _n * _n)));

        _funHistTerm = 10 + (int)Math.Ceiling(30.0 * _n / popsize);
        _funHist = new double[_funHistTerm * 2];

        _c = new double[_n, _n];
        _b = new double[_n, _n];
        for (var i = 0; i < _n; i++)
        {
            _c[i, i] = 1;
            _b[i, i] = 1;
        }

        _d = [.. Enumerable.Repeat(1.0, _n)];
        _pSigma = new double[_n];
        _pC = new double[_n];
    }

    public int Popsize { get; }

    /// <summary>Generations told so far.</summary>
    public int Generation { get; private set; }

    public double Sigma => _sigma;

    public IReadOnlyList<double> Mean => _mean;

    /// <summary>A candidate in [0, 1]^n.</summary>
    public double[] Ask(Random random)
    {
        for (var attempt = 0; attempt < MaxResampling; attempt++)
        {
            var x = Sample(random);
            if (x.All(v => v is >= 0 and <= 1))
            {
                return x;
            }
        }

        return [.. Sample(random).Select(v => Math.Clamp(v, 0, 1))];
    }

    // The last draw's step, to be mirrored by the next one.
    private double[]? _mirror;

    /// <summary>
    /// A candidate of N(m, sigma^2 C): every other one the mirror image of the one before (m - sigma y for m + sigma y), mirrored
    /// sampling (Brockhoff, Auger, Hansen, Arnold and Hohm, PPSN 2010), which halves the random steps a generation takes.
    /// </summary>
    private double[] Sample(Random random)
    {
        var z = new double[_n];
        if (_mirror is { } m)
        {
            for (var i = 0; i < _n; i++)
            {
                z[i] = -m[i];
            }

            _mirror = null;
        }
        else
        {
            for (var i = 0; i < _n; i++)
            {
                z[i] = _d[i] * Normal.Sample(random);
            }

            _mirror = z;
        }

        var x = new double[_n];
        for (var i = 0; i < _n; i++)
        {
            var y = 0.0;
            for (var j = 0; j < _n; j++)
            {
                y += _b[i, j] * z[j];
            }

            x[i] = _mean[i] + (_sigma * y);
        }

        return x;
    }

    /// <summary>Updates the distribution from one generation: <see cref="Popsize"/> candidates and their losses.</summary>
    public void Tell(IReadOnlyList<(double[] X, double Loss)> solutions)
    {
        if (solutions.Count != Popsize)
        {
            throw new ArgumentException($"a generation is {Popsize} solutions, got {solutions.Count}", nameof(solutions));
        }

        Generation++;
        _mirror = null;
        var sorted = solutions.OrderBy(s => s.Loss).ToArray();
        var slot = 2 * (Generation % _funHistTerm);
        _funHist[slot] = sorted[0].Loss;
        _funHist[slot + 1] = sorted[^1].Loss;

        // Every candidate's step in units of sigma; the best mu's weighted mean moves the mean.
        var y = new double[Popsize][];
        var yW = new double[_n];
        for (var k = 0; k < Popsize; k++)
        {
            y[k] = new double[_n];
            for (var i = 0; i < _n; i++)
            {
                y[k][i] = (sorted[k].X[i] - _mean[i]) / _sigma;
                if (k < _mu)
                {
                    yW[i] += _weights[k] * y[k][i];
                }
            }
        }

        for (var i = 0; i < _n; i++)
        {
            _mean[i] += _sigma * yW[i];
        }

        var cInvSqrtYw = InverseSqrtTimes(yW);
        var normPSigma = 0.0;
        var cs = Math.Sqrt(_cSigma * (2 - _cSigma) * _muEff);
        for (var i = 0; i < _n; i++)
        {
            _pSigma[i] = ((1 - _cSigma) * _pSigma[i]) + (cs * cInvSqrtYw[i]);
            normPSigma += _pSigma[i] * _pSigma[i];
        }

        normPSigma = Math.Sqrt(normPSigma);
        _sigma *= Math.Exp(_cSigma / _dSigma * ((normPSigma / _chiN) - 1));
        _sigma = Math.Min(_sigma, 1e32);

        var hSigma = normPSigma / Math.Sqrt(1 - Math.Pow(1 - _cSigma, 2 * (Generation + 1))) < (1.4 + (2.0 / (_n + 1))) * _chiN ? 1.0 : 0.0;
        var cc = Math.Sqrt(_cC * (2 - _cC) * _muEff);
        for (var i = 0; i < _n; i++)
        {
            _pC[i] = ((1 - _cC) * _pC[i]) + (hSigma * cc * yW[i]);
        }

        // Negative weights act on steps rescaled to the length n in the metric of C (Hansen's w_i^o).
        var wO = new double[Popsize];
        for (var k = 0; k < Popsize; k++)
        {
            var length = _weights[k] >= 0 ? 0 : InverseSqrtTimes(y[k]).Sum(v => v * v);
            wO[k] = _weights[k] >= 0 ? _weights[k] : _weights[k] * _n / (length + 1e-8);
        }

        var deltaH = (1 - hSigma) * _cC * (2 - _cC);
        var keep = 1 + (_c1 * deltaH) - _c1 - (_cMu * _weights.Sum());
        for (var i = 0; i < _n; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var rankMu = 0.0;
                for (var k = 0; k < Popsize; k++)
                {
                    rankMu += wO[k] * y[k][i] * y[k][j];
                }

                var value = (keep * _c[i, j]) + (_c1 * _pC[i] * _pC[j]) + (_cMu * rankMu);
                _c[i, j] = value;
                _c[j, i] = value;
            }
        }

        (_b, _d) = Eigen(_c);
    }

    /// <summary>C^(-1/2) v = B D^-1 B^T v.</summary>
    private double[] InverseSqrtTimes(double[] v)
    {
        var bt = new double[_n];
        for (var j = 0; j < _n; j++)
        {
            for (var i = 0; i < _n; i++)
            {
                bt[j] += _b[i, j] * v[i];
            }

            bt[j] /= _d[j];
        }

        var result = new double[_n];
        for (var i = 0; i < _n; i++)
        {
            for (var j = 0; j < _n; j++)
            {
                result[i] += _b[i, j] * bt[j];
            }
        }

        return result;
    }

    /// <summary>The <c>cmaes</c> library's termination criteria: flat fitness, a step below tolerance, divergence, no effect, ill conditioning.</summary>
    public bool ShouldStop()
    {
        if (Generation > _funHistTerm && _funHist.Max() - _funHist.Min() < TolFun)
        {
            return true;
        }

        var allSmall = true;
        for (var i = 0; i < _n; i++)
        {
            allSmall &= _sigma * _c[i, i] < _tolX && _sigma * _pC[i] < _tolX;
        }

        if (allSmall || _sigma * _d.Max() > TolXUp)
        {
            return true;
        }

        for (var i = 0; i < _n; i++)
        {
            if (_mean[i] == _mean[i] + (0.2 * _sigma * Math.Sqrt(_c[i, i])))
            {
                return true;
            }
        }

        var axis = Generation % _n;
        var noEffect = true;
        for (var i = 0; i < _n; i++)
        {
            noEffect &= _mean[i] == _mean[i] + (0.1 * _sigma * _d[axis] * _b[i, axis]);
        }

        return noEffect || _d.Max() / _d.Min() > TolConditionCov;
    }

    /// <summary>The eigenvectors (columns of B) and the square roots of the eigenvalues (D) of a symmetric matrix, by cyclic Jacobi rotations.</summary>
    internal static (double[,] B, double[] D) Eigen(double[,] symmetric)
    {
        var n = symmetric.GetLength(0);
        var a = (double[,])symmetric.Clone();
        var v = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            v[i, i] = 1;
        }

        for (var sweep = 0; sweep < 100; sweep++)
        {
            // Relative to the diagonal: C's scale drifts with sigma's.
            var off = 0.0;
            var diagonal = 0.0;
            for (var p = 0; p < n; p++)
            {
                diagonal += a[p, p] * a[p, p];
                for (var q = p + 1; q < n; q++)
                {
                    off += a[p, q] * a[p, q];
                }
            }

            if (off <= 1e-30 * diagonal)
            {
                break;
            }

            for (var p = 0; p < n; p++)
            {
                for (var q = p + 1; q < n; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300)
                    {
                        continue;
                    }

                    var theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    var t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    var c = 1 / Math.Sqrt((t * t) + 1);
                    var s = t * c;
                    for (var k = 0; k < n; k++)
                    {
                        var akp = a[k, p];
                        var akq = a[k, q];
                        a[k, p] = (c * akp) - (s * akq);
                        a[k, q] = (s * akp) + (c * akq);
                    }

                    for (var k = 0; k < n; k++)
                    {
                        var apk = a[p, k];
                        var aqk = a[q, k];
                        a[p, k] = (c * apk) - (s * aqk);
                        a[q, k] = (s * apk) + (c * aqk);
                    }

                    for (var k = 0; k < n; k++)
                    {
                        var vkp = v[k, p];
                        var vkq = v[k, q];
                        v[k, p] = (c * vkp) - (s * vkq);
                        v[k, q] = (s * vkp) + (c * vkq);
                    }
                }
            }
        }

        // A negative eigenvalue (rounding) is replaced as the cmaes library does.
        var d = new double[n];
        for (var i = 0; i < n; i++)
        {
            d[i] = Math.Sqrt(a[i, i] < 0 ? 1e-8 : a[i, i]);
        }

        return (v, d);
    }
}
