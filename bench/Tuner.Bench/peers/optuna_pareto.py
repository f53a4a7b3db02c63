"""Optuna's multi-objective samplers on ZDT1 and ZDT2 (six dimensions), for Tuner's pareto benchmark.

Usage: optuna_pareto.py PROBLEM SAMPLER SEEDS TRIALS
PROBLEM: zdt1, zdt2, or zdt1_mf (the multi-fidelity variant: 9 reports, f2 + exp(-t/1.5)(1 + 0.5 z_t), the last one
the trial's value; Optuna cannot prune several objectives, so every trial runs its 9).
SAMPLER: nsga2 (NSGAIISampler), motpe (TPESampler, several directions) or random.
Prints a JSON object: per seed, every trial's true objectives [f1, f2] and the values it reported [f1, f2].
The problems are the benchmark's own (bench/Tuner.Bench/ParetoBenchmark.cs, ZdtTrainable): keep them in step.
"""
import json
import math
import sys
import warnings

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore")

N = 6


def zdt(variant, x):
    f1 = x[0]
    g = 1 + 9 * sum(x[1:]) / (N - 1)
    f2 = g * (1 - math.sqrt(f1 / g)) if variant == 1 else g * (1 - (f1 / g) ** 2)
    return f1, f2


def sampler(name, seed):
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if name == "motpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise SystemExit(f"unknown sampler {name}")


def main():
    problem, name, seeds, trials = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    variant = 2 if problem == "zdt2" else 1
    out = []
    for seed in range(seeds):
        rng = np.random.RandomState(1000 + seed)
        true, reported = [], []

        def objective(trial):
            x = [trial.suggest_float(f"x{i + 1}", 0, 1) for i in range(N)]
            f1, f2 = zdt(variant, x)
            true.append([f1, f2])
            if problem == "zdt1_mf":
                last = f2
                for t in range(1, 10):
                    last = f2 + math.exp(-t / 1.5) * (1 + 0.5 * rng.randn())
                reported.append([f1, last])
                return f1, last
            reported.append([f1, f2])
            return f1, f2

        study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler(name, seed))
        study.optimize(objective, n_trials=trials)
        out.append({"true": true, "reported": reported})
    print(json.dumps({"version": optuna.__version__, "seeds": out}))


if __name__ == "__main__":
    main()
