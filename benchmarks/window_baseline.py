"""The window tutorial's code, written the straightforward way the tutorial writes it.

The reference the `seed004` preset is checked against (tests/test_window.py) and timed
against (BENCHMARKS.md): 300 windows of 30 points of sin(f t + p) + N(0, 0.1) over
t in [0, 2 pi], f in [0.5, 1.5], p in [0, pi], numpy and torch seed 42; the target is
each window's last point; 240 windows train, 60 test; `GRUNet` = nn.GRU(1, 32) (dropout
0.2 only between layers, so none with one layer) and a Linear on the last output; Adam
5e-3; 100 full-batch epochs of MSE. It prints test MSE 0.00324 and MAE 0.0462 here.

    python -m benchmarks.window_baseline [--epochs 100] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch import nn


def generate_data(n_samples: int = 300, seq_len: int = 30) -> tuple[np.ndarray, np.ndarray]:
    X, y = [], []
    for _ in range(n_samples):
        freq = np.random.uniform(0.5, 1.5)
        phase = np.random.uniform(0, np.pi)
        t = np.linspace(0, 2 * np.pi, seq_len)
        seq = np.sin(freq * t + phase) + np.random.normal(0, 0.1, seq_len)
        X.append(seq)
        y.append(seq[-1])
    return np.array(X), np.array(y)


class GRUNet(nn.Module):
    def __init__(
        self,
        input_size: int = 1,
        hidden_size: int = 32,
        num_layers: int = 1,
        dropout: float = 0.2,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.gru = nn.GRU(
            input_size,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
        )
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)  # (batch, time, hidden)
        return self.fc(out[:, -1, :])  # (batch, 1)


def run(epochs: int = 100) -> dict:
    """Train and test as the tutorial does; its numbers and the seconds it took."""
    start = time.perf_counter()
    np.random.seed(42)
    torch.manual_seed(42)
    X, y = generate_data()
    X = torch.tensor(X, dtype=torch.float32).unsqueeze(-1)  # (300, 30, 1)
    y = torch.tensor(y, dtype=torch.float32).unsqueeze(-1)  # (300, 1)
    X_train, X_test, y_train, y_test = X[:240], X[240:], y[:240], y[240:]
    model = GRUNet()
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.005)
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = criterion(model(X_train), y_train)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        pred = model(X_test)
        mse = criterion(pred, y_test).item()
        mae = torch.mean(torch.abs(pred - y_test)).item()
    return {
        "train_loss": loss.item(),
        "test_mse": mse,
        "test_mae": mae,
        "seconds": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run(args.epochs)
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
