"""Lessons: guided scenarios shipped with the app, each a run to look at and a page to open.

A lesson is its settings (a preset and the Train settings that differ from it, on a generated
sine) and the words that go with it (`lesson.<name>.title`, `.story`, `.next` in the string
tables). Its trained run ships as a bundle, `assets/lessons/<name>.zip`, made by
`scripts/make_lessons.py`: opening a lesson imports that run instead of training it. The
lessons are cheap, so the tests train each again and compare the numbers with its bundle.
This module knows nothing of Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from gru_core.config import PRESETS, DataConfig
from gru_core.spec import RunSpec

BUNDLES = Path(__file__).resolve().parents[1] / "assets" / "lessons"
SHIPPED_FRAMES = 24  # replay frames in a lesson's bundle (about 6 KiB each)
PAGES = ("rollouts", "gates", "memory", "results", "train")  # where a lesson may send one next


@dataclass(frozen=True)
class Lesson:
    """One guided scenario: the run it shows and the page to look at next."""

    name: str  # the link's `?lesson=` and the bundle's file name
    preset: str  # the preset its settings start from
    settings: Mapping[str, object] = field(default_factory=dict)  # Train settings that differ
    page: str = "rollouts"  # the page to open next (one of PAGES)
    data: DataConfig = DataConfig()  # the generated series it trains on

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    def spec(self) -> RunSpec:
        """The run this lesson's settings describe, on its data."""
        from gru_core.views.data import generated_dataset
        from gru_core.views.train import build_configs

        model, train = build_configs(dict(self.settings), self.preset)
        spec = RunSpec.from_preset(PRESETS[self.preset], model, train, generated_dataset(self.data))
        return spec.validate()

    @property
    def bundle(self) -> Path:
        """Where its trained run ships."""
        return BUNDLES / f"{self.name}.zip"


LESSONS: dict[str, Lesson] = {
    lesson.name: lesson
    for lesson in (
        Lesson("mlp_sine", "fast", page="rollouts"),
        Lesson("update_gate", "fast", {"models": ["gru"], "hidden": 8}, page="gates"),
        Lesson("rnn_forgets", "fast", {"models": ["gru", "rnn"]}, page="memory"),
    )
}


def lesson(name: str) -> Lesson:
    """The lesson called `name`; KeyError listing the lessons there are."""
    if name not in LESSONS:
        raise KeyError(f"no lesson {name!r}; the lessons are {', '.join(LESSONS)}")
    return LESSONS[name]


def train_lesson(chosen: Lesson):
    """A trainer that has trained the lesson's run to its last epoch (one torch thread),
    holding the replay frames a run in the app keeps."""
    import torch

    from gru_core.train import Trainer, final_metrics, train

    torch.set_num_threads(1)  # the numbers the bundles hold: one thread, as the app trains
    trainer = Trainer(chosen.spec(), keep_frames=True)  # the bundle carries its replay
    train(trainer)
    final_metrics(trainer)  # the last epoch evaluated, if its schedule skipped it
    return trainer


def shipped_frames(frames: dict[int, dict], epochs: int) -> dict[int, dict]:
    """The replay frames a lesson's bundle carries: `SHIPPED_FRAMES` of those the run kept,
    every epoch at first and spaced out later (`replay.kept_epochs`), so Play still shows the
    models learn while the committed file stays small."""
    from gru_core import replay

    wanted = replay.kept_epochs(epochs, most=SHIPPED_FRAMES)
    return {at: frames[at] for at in {replay.frame_at(frames, e)[0] for e in wanted}}


def write_lesson_bundle(chosen: Lesson, path: str | Path | None = None) -> bytes:
    """Train the lesson and write its bundle (to its place under assets/ by default)."""
    from gru_core import workspace

    trainer = train_lesson(chosen)
    trainer.frames = shipped_frames(trainer.frames, trainer.spec.train.epochs)
    return workspace.trained_bundle(
        trainer,
        f"python scripts/make_lessons.py {chosen.name}",
        name=chosen.name,
        meta={"lesson": chosen.name},
        path=chosen.bundle if path is None else path,
    )
