"""How long a run will take, said before it starts: its work at a pace measured here.

A run's work per epoch is counted in parameter-points: each model touches every one of its
trainable parameters once for each point it trains on (forward and backward), and a third as
much for each point it forecasts when evaluated (forward only), every `eval_every` epochs.
The pace (seconds per parameter-point) is measured, never assumed: it comes from this
workspace's earlier runs (their seconds and epochs), the ones whose work per epoch is closest
to the new run's, since small models pay more per point for the fixed cost of each step. With
no earlier run there is no estimate. Pure: no Streamlit, no torch.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gru_core.config import split_index

NEAREST = 3  # earlier runs the pace is taken from (the median of their paces)
EVAL_COST = 1 / 3  # a forecast step's cost against a training step's (no backward pass)


@dataclass(frozen=True)
class Measured:
    """An earlier run's measurement."""

    work: float  # parameter-points per epoch (`epoch_work`)
    seconds: float  # seconds its epochs took
    epochs: int  # epochs it trained

    @property
    def pace(self) -> float:
        """Seconds per parameter-point."""
        return self.seconds / (self.epochs * self.work)


@dataclass(frozen=True)
class Estimate:
    seconds: float  # the whole run
    runs: int  # earlier runs the pace comes from


def epoch_work(
    parameters: Mapping[str, int], n_train: int, n_test: int, eval_every: int = 1
) -> float:
    """Parameter-points per epoch of a run whose models have `parameters` (name -> count)."""
    points = n_train + EVAL_COST * n_test / max(1, eval_every)
    return float(sum(parameters.values()) * points)


def spec_work(spec: dict, parameters: Mapping[str, int], points: int | None = None) -> float:
    """`epoch_work` of a run described by its spec dict (`RunSpec.to_dict`); `points`, the
    length of its series, for a dict without its values (a stored run's uploaded data)."""
    data = spec["data"]
    if points is None:
        points = data["sine"]["points"] if data.get("sine") else len(data["values"])
    n_train = split_index(points, data["train_fraction"])
    return epoch_work(parameters, n_train, points - n_train, spec["train"]["eval_every"])


def estimate(work: float, epochs: int, earlier: Sequence[Measured]) -> Estimate | None:
    """The run's seconds at the median pace of the `NEAREST` earlier runs closest in work.

    None without an earlier run that trained at least one epoch.
    """
    usable = [m for m in earlier if m.epochs > 0 and m.seconds > 0 and m.work > 0]
    if not usable or work <= 0:
        return None
    usable.sort(key=lambda m: abs(math.log(m.work / work)))
    nearest = usable[:NEAREST]
    pace = statistics.median(m.pace for m in nearest)
    return Estimate(seconds=pace * work * epochs, runs=len(nearest))
