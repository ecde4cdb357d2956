"""The Data page's computations: generated and uploaded datasets, their CSV and statistics."""

from __future__ import annotations

import io

import numpy as np

from gru_core import data as datasets
from gru_core.config import DataConfig
from gru_core.i18n import t
from gru_core.spec import Dataset
from gru_core.strings.en import EN


def _sine_values(cfg: DataConfig) -> dict[str, object]:
    return dict(
        points=f"{cfg.points:,}", periods=f"{cfg.periods:g}", noise=f"{cfg.noise:g}", seed=cfg.seed
    )


def sine_label(cfg: DataConfig) -> str:
    """The generated sine's name, kept with its runs: in English whatever the page's language."""
    return EN["data.sine"].format(**_sine_values(cfg))


def shown_label(data: Dataset) -> str:
    """The dataset's name as a page shows it: a generated sine's in the current language."""
    return t("data.sine", **_sine_values(data.sine)) if data.sine is not None else data.label


def shown_name(meta: dict) -> str:
    """A stored dataset's name (a spec's "data": label, and sine settings where generated) as
    a page shows it: a generated sine's in the current language."""
    if meta.get("sine") is not None:
        return t("data.sine", **_sine_values(DataConfig(**meta["sine"])))
    return str(meta.get("label", ""))


def generated_dataset(cfg: DataConfig = DataConfig(), series: np.ndarray | None = None) -> Dataset:
    """The noisy sine of `cfg` (pass `series` if it was already made, e.g. from a cache)."""
    values = datasets.make_sine(cfg) if series is None else series
    return Dataset(values, cfg.train_fraction, sine_label(cfg), "generated", cfg)


def uploaded_dataset(
    content: bytes,
    name: str,
    column: str | None,
    train_fraction: float,
    time_column: str | None = None,
) -> Dataset:
    """A series read from an uploaded CSV's bytes, with its `time_column`'s timestamps if
    one is named; raises DataError with a readable message."""
    values = datasets.load_series(content, column)
    times = None if time_column is None else datasets.load_timestamps(content, time_column)
    where = f", column {column!r}" if column else ""
    return Dataset(
        values,
        float(train_fraction),
        f"{name}{where}: {len(values):,} points",
        "upload",
        times=times,
    )


def series_csv(series: np.ndarray) -> bytes:
    """The series as a CSV file, one value a line (the tutorial's `%.6f` format)."""
    buffer = io.BytesIO()
    datasets.save_series(series, buffer)
    return buffer.getvalue()


def data_stats(dataset: Dataset) -> dict[str, str]:
    """Sizes and basic statistics of the series, formatted for metric cards."""
    d = datasets.describe(dataset.series, dataset.train_fraction)
    return {
        "points": f"{d['points']:,}",
        "train points": f"{d['train_points']:,}",
        "test points": f"{d['test_points']:,}",
        "mean": f"{d['mean']:.3f}",
        "std": f"{d['std']:.3f}",
        "min": f"{d['min']:.3f}",
        "max": f"{d['max']:.3f}",
    }


def standardize_note(dataset: Dataset, standardize: bool) -> str:
    """What "Standardise" does to this series, in its own numbers, and the units results use."""
    train = np.asarray(dataset.series[: dataset.n_train], dtype=np.float64)
    if not standardize:
        return t("data.standardize.off")
    return t("data.standardize.on", mean=f"{train.mean():.4g}", std=f"{train.std() or 1.0:.4g}")
