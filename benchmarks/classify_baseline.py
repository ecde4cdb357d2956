"""The sequence-classification tutorial's algorithm, written the straightforward way, on the
`classify` preset's data: the reference the preset's speed is measured against.

The tutorial wraps `nn.GRU(input, hidden, num_layers, batch_first=True)` and a Linear on the
last output, trains it with cross-entropy and Adam on shuffled minibatches for a fixed number
of epochs, and reports test accuracy. Here on the preset's task: 600 windows of 30 points of
sin(f t + p) + N(0, 0.1) over t in [0, 2 pi], f in [0.5, 1.5], p in [0, pi] (numpy seed 42),
labelled rising (1) or falling (0) at the window's end; 480 train, 120 test; 32 units,
Adam 1e-2, batches of 64, 30 epochs, torch seed 42. `--target` adds a test after each epoch
(the tutorial tests once, at the end) and stops at the first epoch at that accuracy.

    python -m benchmarks.classify_baseline [--epochs 30] [--target 0.95] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch import nn


def generate_data(n_samples: int = 600, seq_len: int = 30) -> tuple[np.ndarray, np.ndarray]:
    X, y = [], []
    t = np.linspace(0, 2 * np.pi, seq_len)
    for _ in range(n_samples):
        freq = np.random.uniform(0.5, 1.5)
        phase = np.random.uniform(0, np.pi)
        X.append(np.sin(freq * t + phase) + np.random.normal(0, 0.1, seq_len))
        y.append(int(np.cos(freq * t[-1] + phase) > 0))  # rising at the end
    return np.array(X), np.array(y)


class GRUClassifier(nn.Module):
    def __init__(self, input_size=1, hidden_size=32, num_layers=1, num_classes=2) -> None:
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)  # (batch, time, hidden)
        return self.fc(out[:, -1, :])  # (batch, classes)


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


def run(epochs: int = 30, target: float | None = None) -> dict:
    """Train and test as the tutorial does. With `target`, test after every epoch and stop at
    the first whose accuracy reaches it. Its accuracy, epochs and seconds."""
    start = time.perf_counter()
    np.random.seed(42)
    torch.manual_seed(42)
    X, y = generate_data()
    X = torch.tensor(X, dtype=torch.float32).unsqueeze(-1)  # (600, 30, 1)
    y = torch.tensor(y, dtype=torch.int64)  # (600,)
    X_train, X_test, y_train, y_test = X[:480], X[480:], y[:480], y[480:]
    model = GRUClassifier()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    acc, done = 0.0, 0
    for _ in range(epochs):
        done += 1
        model.train()
        for idx in torch.randperm(len(X_train)).split(64):
            optimizer.zero_grad()
            loss = criterion(model(X_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
        if target is not None:
            acc = accuracy(model, X_test, y_test)
            if acc >= target:
                break
    if target is None:
        acc = accuracy(model, X_test, y_test)
    return {
        "test_accuracy": acc,
        "epochs": done,
        "reached": target is None or acc >= target,
        "seconds": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--target", type=float)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run(args.epochs, args.target)
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
