"""Optuna on the constrained Branin (a disk constraint), for Tuner's constrained benchmark.

Usage: optuna_constrained.py SAMPLER SEEDS TRIALS RADIUS
SAMPLER: tpe (TPESampler with constraints_func) or random.
The constraint: (x1 - 2.5)^2 + (x2 - 7.5)^2 - RADIUS^2 <= 0 (feasible inside the disk), as BraninTrainable's constraint_disk.
Prints a JSON object: per seed, the best feasible value (null when no trial was feasible) and the share of feasible trials.
"""
import json
import math
import sys
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore")


def branin(x1, x2):
    b, c, r, s, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


def main():
    name, seeds, trials, radius = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    best, feasible_share = [], []
    for seed in range(seeds):
        def objective(trial):
            x1 = trial.suggest_float("x1", -5, 10)
            x2 = trial.suggest_float("x2", 0, 15)
            trial.set_user_attr("constraint", [(x1 - 2.5) ** 2 + (x2 - 7.5) ** 2 - radius ** 2])
            return branin(x1, x2)

        constraints = lambda t: t.user_attrs["constraint"]
        sampler = optuna.samplers.TPESampler(seed=seed, constraints_func=constraints) if name == "tpe" else optuna.samplers.RandomSampler(seed=seed)
        study = optuna.create_study(direction="minimize", sampler=sampler)
        study.optimize(objective, n_trials=trials)
        feasible = [t.value for t in study.trials if t.user_attrs["constraint"][0] <= 0]
        best.append(min(feasible) if feasible else None)
        feasible_share.append(len(feasible) / len(study.trials))
    print(json.dumps({"version": optuna.__version__, "best": best, "feasible": feasible_share}))


if __name__ == "__main__":
    main()
