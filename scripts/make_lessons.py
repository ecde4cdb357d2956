"""Train every lesson (or those named) and write its bundle under assets/lessons/.

    python scripts/make_lessons.py [NAME ...]

The runs are seeded and trained on one thread, so a run made again has the same weights
and numbers (the bundle's creation time and versions aside).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gru_core.lessons import BUNDLES, LESSONS, lesson, write_lesson_bundle  # noqa: E402


def main(names: list[str]) -> int:
    BUNDLES.mkdir(parents=True, exist_ok=True)
    for name in names or list(LESSONS):
        chosen = lesson(name)
        size = len(write_lesson_bundle(chosen))
        print(f"{chosen.bundle.relative_to(BUNDLES.parents[1])}: {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
