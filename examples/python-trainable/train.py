#!/usr/bin/env python3
"""A command trainable: any program can be tuned if it speaks Tuner's trial protocol.

It reads its hyperparameters from the JSON file named by TUNER_CONFIG_FILE, prints one line
`TUNER_REPORT {json}` per epoch, saves checkpoints into folders under TUNER_CHECKPOINT_DIR and
announces them with `TUNER_CHECKPOINT {"path": ...}`, continues from TUNER_RESTORE_FROM when a trial
is resumed or retried, and on SIGTERM (a stop or pause decision) saves a checkpoint and exits 0.
A non-zero exit is a failed trial; the last lines of standard error say why.

The model: a quadratic y = w0 + w1 x + w2 x^2 fitted by mini-batch gradient descent with momentum
to noisy samples of y = 1 - 2x + 3x^2. Only the standard library is used.
"""
import json
import math
import os
import random
import signal
import sys

config = json.load(open(os.environ["TUNER_CONFIG_FILE"]))
lr = float(config["lr"])
momentum = float(config.get("momentum", 0.0))
batch = int(config.get("batch_size", 16))
epochs = int(config.get("epochs", 30))
noise = float(os.environ.get("QUADRATIC_NOISE", "0.1"))
checkpoint_dir = os.environ["TUNER_CHECKPOINT_DIR"]
restore_from = os.environ.get("TUNER_RESTORE_FROM")
frequency = int(os.environ.get("TUNER_CHECKPOINT_FREQUENCY", "0"))

data = random.Random(1234)
xs = [data.uniform(-1, 1) for _ in range(400)]
points = [(x, 1 - 2 * x + 3 * x * x + data.gauss(0, noise)) for x in xs]
train, valid = points[:300], points[300:]

state = {"epoch": 0, "w": [0.0, 0.0, 0.0], "v": [0.0, 0.0, 0.0]}
if restore_from:
    with open(os.path.join(restore_from, "state.json")) as f:
        state = json.load(f)

stopping = False


def on_sigterm(signum, frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_sigterm)


def save():
    path = os.path.join(checkpoint_dir, "checkpoint_%06d" % state["epoch"])
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "state.json"), "w") as f:
        json.dump(state, f)
    print("TUNER_CHECKPOINT " + json.dumps({"path": path}), flush=True)


def predict(w, x):
    return w[0] + w[1] * x + w[2] * x * x


order = random.Random(int(os.environ.get("TUNER_SEED", "0")))
while state["epoch"] < epochs:
    if stopping:
        save()
        sys.exit(0)

    shuffled = train[:]
    order.shuffle(shuffled)
    w, v = state["w"], state["v"]
    for start in range(0, len(shuffled), batch):
        chunk = shuffled[start:start + batch]
        grad = [0.0, 0.0, 0.0]
        for x, y in chunk:
            error = predict(w, x) - y
            for i, feature in enumerate((1.0, x, x * x)):
                grad[i] += 2 * error * feature / len(chunk)
        for i in range(3):
            v[i] = momentum * v[i] - lr * grad[i]
            w[i] += v[i]

    loss = sum((predict(w, x) - y) ** 2 for x, y in valid) / len(valid)
    if not math.isfinite(loss) or loss > 1e12:
        print("the loss diverged at epoch %d with lr=%g, momentum=%g" % (state["epoch"] + 1, lr, momentum), file=sys.stderr)
        sys.exit(3)

    state["epoch"] += 1
    done = state["epoch"] >= epochs
    print("TUNER_REPORT " + json.dumps({"loss": loss, "epoch": state["epoch"], "done": done}), flush=True)
    if frequency and state["epoch"] % frequency == 0 and not done:
        save()
