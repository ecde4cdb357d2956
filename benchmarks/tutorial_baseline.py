"""The tutorial's algorithm, written the straightforward way the tutorial writes it.

This is the reference the `seed` preset is measured against (BENCHMARKS.md): one
module call per 20-step sequence, `.item()` after every step, and a per-step
Python loop for the 199-step free-running test forecast after every epoch. It is
deliberately not optimised; it is what "the same algorithm, done plainly" costs.

    python -m benchmarks.tutorial_baseline [--epochs 150] [--threads N] [--json]

`--threads` sets `torch.set_num_threads` (default: torch's own choice, as the tutorial's
code leaves it). The benchmarks pass `--threads 1`, what the app and the command line
use: on a small or shared machine, torch's default thread pool makes these tiny
operations several times slower, which would flatter every speed-up measured against it.
"""

from __future__ import annotations

import argparse
import io
import json
import time

import numpy as np
import torch
from torch import nn


def tutorial_series() -> np.ndarray:
    """The tutorial's 1,000 noisy sine points, round-tripped through `%.6f` text."""
    np.random.seed(42)
    x = np.linspace(0, 10 * np.pi, 1000)
    y = np.sin(x) + np.random.normal(0, 0.1, 1000)
    buf = io.StringIO()
    np.savetxt(buf, y, fmt="%.6f")
    buf.seek(0)
    return np.loadtxt(buf)


class GRUModel(nn.Module):
    def __init__(self, hidden: int = 16) -> None:
        super().__init__()
        self.gru = nn.GRU(1, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, x, h=None):
        out, h = self.gru(x, h)  # (time, 1, hidden), (1, 1, hidden)
        return self.linear(out), h


class MLPModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1)
        )

    def forward(self, x):
        return self.net(x)


def run(epochs: int = 150, seq_len: int = 20, lr: float = 5e-4, verbose: bool = False) -> dict:
    data = tutorial_series()
    train, test = data[:800], data[800:]
    n_chunks = len(train) // (seq_len + 1)
    chunks = train[: n_chunks * (seq_len + 1)].reshape(n_chunks, seq_len + 1)
    inputs, targets = chunks[:, :-1], chunks[:, 1:]

    np.random.seed(0)
    torch.manual_seed(0)
    gru = GRUModel()
    opt_gru = torch.optim.Adam(gru.parameters(), lr=lr)
    mlp = MLPModel()
    opt_mlp = torch.optim.Adam(mlp.parameters(), lr=lr)
    loss_fn = nn.MSELoss()

    start = time.perf_counter()
    h = None
    for epoch in range(epochs):
        gru_losses, mlp_losses = [], []
        for i in range(n_chunks):
            x = torch.tensor(inputs[i], dtype=torch.float32).view(seq_len, 1, 1)
            y = torch.tensor(targets[i], dtype=torch.float32).view(seq_len, 1, 1)

            pred, h = gru(x, h)
            h = h.detach()
            loss = loss_fn(pred, y)
            opt_gru.zero_grad()
            loss.backward()
            opt_gru.step()
            gru_losses.append(loss.item())

            pred_m = mlp(x.view(seq_len, 1))
            loss_m = loss_fn(pred_m, y.view(seq_len, 1))
            opt_mlp.zero_grad()
            loss_m.backward()
            opt_mlp.step()
            mlp_losses.append(loss_m.item())

        with torch.no_grad():
            h_test = h.clone()
            inp = torch.tensor([[[test[0]]]], dtype=torch.float32)
            gru_preds = []
            for _ in range(len(test) - 1):
                p, h_test = gru(inp, h_test)
                gru_preds.append(p.item())
                inp = p
            inp = torch.tensor([[test[0]]], dtype=torch.float32)
            mlp_preds = []
            for _ in range(len(test) - 1):
                p = mlp(inp)
                mlp_preds.append(p.item())
                inp = p
        truth = test[1:]
        gru_test = float(np.mean((np.array(gru_preds, dtype=np.float32) - truth) ** 2))
        mlp_test = float(np.mean((np.array(mlp_preds, dtype=np.float32) - truth) ** 2))
        if verbose:
            print(
                f"epoch {epoch + 1}: gru {np.mean(gru_losses):.4f} mlp {np.mean(mlp_losses):.4f}"
                f" test gru {gru_test:.4f} mlp {mlp_test:.4f}"
            )
    seconds = time.perf_counter() - start
    return {
        "epochs": epochs,
        "train_seconds": seconds,
        "gru": {"train_loss": float(np.mean(gru_losses)), "test_rollout_mse": gru_test},
        "mlp": {"train_loss": float(np.mean(mlp_losses)), "test_rollout_mse": mlp_test},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    result = run(args.epochs, verbose=not args.json)
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
