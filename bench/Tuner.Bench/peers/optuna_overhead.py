"""Optuna's side of the overhead benchmark: N trials of R reports each, in-memory storage.

Prints one JSON object. Run with Debian's python3 (python3-optuna 3.1)."""
import json
import sys
import time

import optuna

trials, reports, sampler_name, pruner_name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
optuna.logging.set_verbosity(optuna.logging.WARNING)
reported = 0


def objective(trial):
    global reported
    x1 = trial.suggest_float("x1", -5, 10)
    x2 = trial.suggest_float("x2", 0, 15)
    value = x1 * x1 + x2
    for step in range(1, reports + 1):
        trial.report(value, step)
        reported += 1
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


sampler = optuna.samplers.TPESampler(seed=1) if sampler_name == "tpe" else optuna.samplers.RandomSampler(seed=1)
pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=reports) if pruner_name == "hyperband" else optuna.pruners.NopPruner()
study = optuna.create_study(sampler=sampler, pruner=pruner, direction="minimize")
start = time.perf_counter()
study.optimize(objective, n_trials=trials)
elapsed = time.perf_counter() - start
print(json.dumps({"trials": len(study.trials), "results": reported, "seconds": elapsed, "version": optuna.__version__}))
