"""Optuna's CmaEsSampler on 10-d ellipsoid and Rosenbrock, for Tuner's cmaes benchmark.

Usage: optuna_cmaes.py PROBLEM SAMPLER SEEDS TRIALS [TIMING_TRIALS]
SAMPLER: cmaes (CmaEsSampler's defaults) or cmaes_ipop (restart_strategy="ipop").
Prints a JSON object: the best value found per seed (sequential study.optimize, in memory), and, when TIMING_TRIALS is
given, the mean seconds per trial (ask + tell) over the last 100 of that many trials.
The functions and bounds are the benchmark's own (bench/Tuner.Bench/CmaEsBenchmark.cs): keep them in step.
"""
import json
import sys
import time
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore")

N = 10


def ellipsoid(trial):
    x = [trial.suggest_float(f"x{i}", -5, 5) for i in range(N)]
    return sum(1e6 ** (i / (N - 1)) * (x[i] - 1) ** 2 for i in range(N))


def rosenbrock(trial):
    x = [trial.suggest_float(f"x{i}", -2, 3) for i in range(N)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(N - 1))


def sampler(name, seed):
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    if name == "cmaes_ipop":
        return optuna.samplers.CmaEsSampler(seed=seed, restart_strategy="ipop")
    raise SystemExit(f"unknown sampler {name}")


def main():
    problem = {"ellipsoid10": ellipsoid, "rosenbrock10": rosenbrock}[sys.argv[1]]
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
