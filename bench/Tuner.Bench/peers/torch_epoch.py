"""One training epoch of the gestures GRU in PyTorch, on data, batches and threads given by the caller.

Reads a JSON file written by `tuner bench epoch`: the training sequences, labels, the batch order,
the model size and the thread count. Prints one line: `seconds <epoch time> loss <mean train loss>`.
Mirrors Tuner's Trainer: pad per batch, GRU over the padded batch, the output at each sequence's
last real step, a linear head, cross-entropy, Adam.
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


def main(path):
    with open(path) as f:
        spec = json.load(f)
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec["seed"])
    sequences = [torch.tensor(s, dtype=torch.float32) for s in spec["sequences"]]
    labels = torch.tensor(spec["labels"], dtype=torch.int64)
    model = GruClassifier(3, spec["hidden"], spec["layers"], spec["classes"])
    optimizer = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for repeat in range(spec["warmup"] + 1):
        start = time.perf_counter()
        total, seen = 0.0, 0
        for batch in spec["batches"]:
            x = pad_sequence([sequences[i] for i in batch], batch_first=True)
            lengths = torch.tensor([len(sequences[i]) for i in batch], dtype=torch.int64)
            optimizer.zero_grad()
            loss = loss_fn(model(x, lengths), labels[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
            seen += len(batch)
        elapsed = time.perf_counter() - start
    print(f"seconds {elapsed:.4f} loss {total / seen:.5f}")


if __name__ == "__main__":
    main(sys.argv[1])
