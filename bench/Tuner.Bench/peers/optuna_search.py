"""Optuna's samplers on Branin and Hartmann6 (Tuner's search benchmark) and on the 10-d ellipsoid and Rosenbrock (its cmaes
benchmark, whose functions and bounds are bench/Tuner.Bench/CmaEsBenchmark.cs's: keep them in step).

Usage: optuna_search.py PROBLEM SAMPLER SEEDS TRIALS [TIMING_TRIALS]
SAMPLER: random, tpe, tpe_multivariate, cmaes (CmaEsSampler's defaults) or cmaes_ipop (restart_strategy="ipop").
Prints a JSON object: the best value found per seed (sequential study.optimize, in memory), and, when
TIMING_TRIALS is given, the mean seconds per trial (ask + tell) over the last 100 of that many trials.
"""
import json
import math
import sys
import time
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore")
N = 10

ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]


def branin(trial):
    x1 = trial.suggest_float("x1", -5, 10)
    x2 = trial.suggest_float("x2", 0, 15)
    b, c, r, s, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


def hartmann6(trial):
    x = [trial.suggest_float(f"x{i + 1}", 0, 1) for i in range(6)]
    total = 0.0
    for i in range(4):
        inner = sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6))
        total += ALPHA[i] * math.exp(-inner)
    return -total


def ellipsoid(trial):
    x = [trial.suggest_float(f"x{i}", -5, 5) for i in range(N)]
    return sum(1e6 ** (i / (N - 1)) * (x[i] - 1) ** 2 for i in range(N))


def rosenbrock(trial):
    x = [trial.suggest_float(f"x{i}", -2, 3) for i in range(N)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(N - 1))


def sampler(name, seed):
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "tpe_multivariate":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    if name == "cmaes_ipop":
        return optuna.samplers.CmaEsSampler(seed=seed, restart_strategy="ipop")
    raise SystemExit(f"unknown sampler {name}")


def main():
    problem = {"branin": branin, "hartmann6": hartmann6, "ellipsoid10": ellipsoid, "rosenbrock10": rosenbrock}[sys.argv[1]]
    name, seeds, trials = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    best = []
    for seed in range(seeds):
        study = optuna.create_study(direction="minimize", sampler=sampler(name, seed))
        study.optimize(problem, n_trials=trials)
        best.append(study.best_value)
    out = {"version": optuna.__version__, "best": best}
    if len(sys.argv) > 5:
        timing = int(sys.argv[5])
        study = optuna.create_study(direction="minimize", sampler=sampler(name, 0))
        study.optimize(problem, n_trials=timing - 100)
        start = time.perf_counter()
        study.optimize(problem, n_trials=100)
        out["seconds_per_trial"] = (time.perf_counter() - start) / 100
    print(json.dumps(out))


if __name__ == "__main__":
    main()
