"""Gestures GRU epochs in PyTorch on the data, batch orders and threads given by Tuner's bench.

Reads a JSON file written by `Tuner.Bench epoch`: the training and validation sequences and labels,
one batch order per epoch, the model size, learning rate and thread count. Each epoch trains
(pad per batch, GRU over the padded batch, the output at each sequence's last real step, a linear
head, cross-entropy, Adam) and validates (batches of 256, no gradients), exactly as Tuner's Trainer.
Prints one line per epoch: `epoch <seconds> <train loss> <valid loss> <accuracy>`.
"""
import json
import sys
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence


class GruClassifier(nn.Module):
    def __init__(self, features, hidden, layers, classes):
        super().__init__()
        self.gru = nn.GRU(features, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x, lengths):
        out, _ = self.gru(x)
        last = (lengths - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, out.shape[2])
        return self.head(out.gather(1, last).squeeze(1))


def batch(sequences, labels, indices):
    x = pad_sequence([sequences[i] for i in indices], batch_first=True)
    lengths = torch.tensor([len(sequences[i]) for i in indices], dtype=torch.int64)
    return x, lengths, labels[indices]


def main(path):
    with open(path) as f:
        spec = json.load(f)
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec["seed"])
    train = [torch.tensor(s, dtype=torch.float32) for s in spec["train"]]
    train_labels = torch.tensor(spec["train_labels"], dtype=torch.int64)
    valid = [torch.tensor(s, dtype=torch.float32) for s in spec["valid"]]
    valid_labels = torch.tensor(spec["valid_labels"], dtype=torch.int64)
    model = GruClassifier(3, spec["hidden"], spec["layers"], spec["classes"])
    optimizer = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    loss_fn = nn.CrossEntropyLoss()
    size = spec["batch"]
    for order in spec["orders"]:
        start = time.perf_counter()
        model.train()
        total, seen = 0.0, 0
        for b in range(0, len(order), size):
            x, lengths, y = batch(train, train_labels, order[b:b + size])
            optimizer.zero_grad()
            loss = loss_fn(model(x, lengths), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            seen += len(y)
        model.eval()
        valid_total, correct = 0.0, 0
        with torch.no_grad():
            for b in range(0, len(valid), 256):
                indices = list(range(b, min(b + 256, len(valid))))
                x, lengths, y = batch(valid, valid_labels, indices)
                out = model(x, lengths)
                valid_total += loss_fn(out, y).item() * len(y)
                correct += (out.argmax(1) == y).sum().item()
        elapsed = time.perf_counter() - start
        print(f"epoch {elapsed:.4f} {total / seen:.5f} {valid_total / len(valid):.5f} {correct / len(valid):.5f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
