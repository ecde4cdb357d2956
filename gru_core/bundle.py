"""Run bundles: one zip that carries a run between machines, read without running any code.

A bundle holds five members: `config.json` (the run spec, its name and meta, the bundle
format and the versions of Python, torch, numpy and GRU Lab), `history.csv` (one row an
epoch), `weights.safetensors` (the flat tensor dict), `series.csv` (the data it trained on,
every float64 bit kept) and `command.txt` (the command line that reproduces it); and, where
the run kept them, `frames.safetensors`: its replay frames (the weights and carried states at
the epochs it kept, `frame/<epoch>/<name>` under the weights' own names, each frame's meta
in the file's).

`read_bundle` parses JSON, CSV and safetensors only: nothing is unpickled, imported or
executed. Whatever is wrong with a bundle (not a zip, an unsafe or unknown member, a
pickle, a zip bomb, a wrong tensor) raises `BundleError` with one line that names the
problem; reading writes nothing anywhere, so a refused bundle changes nothing.
This module knows nothing of workspaces or training: the caller stores what it returns.
"""

from __future__ import annotations

import csv
import io
import json
import numbers
import os
import platform
import re
import stat
import struct
import time
import tomllib
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gru_core import tensorfile
from gru_core.data import DataError, load_series
from gru_core.i18n import t

FORMAT = 1  # bundle format this code writes and reads
MEMBERS = ("config.json", "history.csv", "weights.safetensors", "series.csv", "command.txt")
FRAMES = "frames.safetensors"  # the one optional member: the run's replay frames
MAX_FRAMES = 200  # frames a bundle may hold (as many as a run keeps: replay.MAX_KEPT)
_FRAME_NAME = re.compile(r"frame/(0|[1-9][0-9]{0,8})/(.+)")
MAX_BUNDLE_BYTES = 64 * 2**20  # a bundle file larger than this is refused unread
MAX_UNPACKED_BYTES = 256 * 2**20  # all members together, uncompressed
MAX_RATIO = 200  # uncompressed / compressed size of a member over 1 MiB; deflate reaches ~1000
_SMALL = {"config.json": 2**20, "command.txt": 64 * 2**10}  # tighter caps for small members
_DTYPES = {"F32": torch.float32, "F64": torch.float64}
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".npy", ".npz")

# Expected tensor shapes by name, or a function of config.json giving them (the engine
# derives them from the run spec).
Shapes = Mapping[str, tuple[int, ...]] | Callable[[dict], Mapping[str, tuple[int, ...]]]


class BundleError(ValueError):
    """A bundle that cannot be loaded; the one-line message names the problem."""


@dataclass(frozen=True)
class Bundle:
    """What a bundle holds, parsed and checked."""

    config: dict  # format, versions, name, spec, meta, created
    history: list[dict]  # one row an epoch; None where a metric was not evaluated
    tensors: dict[str, torch.Tensor]  # flat: model/<name>/..., optim/<name>/..., state/<name>
    series: np.ndarray  # (points,) float64
    command: str  # the command line that reproduces the run
    frames: dict = field(default_factory=dict)  # epoch -> (flat tensors, meta); may be empty

    @property
    def spec(self) -> dict:
        """The run spec."""
        return self.config["spec"]


def versions() -> dict[str, str]:
    """The versions a bundle records: Python, torch, numpy, GRU Lab."""
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "gru_lab": _lab_version(),
    }


def _lab_version() -> str:
    try:
        with open(Path(__file__).resolve().parents[1] / "pyproject.toml", "rb") as f:
            return tomllib.load(f)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def filename(name: str) -> str:
    """A download file name for a run's bundle: its name, safe on every system, `.zip`."""
    stem = re.sub(r"[^\w.+-]+", "-", name).strip("-._")[:80].rstrip("-._")
    return f"{stem or 'run'}.zip"


def write_bundle(
    spec: Mapping,
    history: list[Mapping],
    tensors: Mapping[str, torch.Tensor],
    series: np.ndarray,
    command: str,
    *,
    name: str = "",
    meta: Mapping | None = None,
    path: str | os.PathLike | None = None,
    frames: Mapping[int, tuple[Mapping[str, torch.Tensor], Mapping]] | None = None,
) -> bytes:
    """The run as bundle bytes (also written to `path` if given); `frames` (epoch -> flat
    tensors and meta, as `replay.flatten` gives them) adds its replay frames."""
    config = {
        "format": FORMAT,
        "versions": versions(),
        "name": name,
        "spec": dict(spec),
        "meta": dict(meta or {}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    values = np.asarray(series, dtype=np.float64)
    members = {
        "config.json": json.dumps(config, indent=2, allow_nan=False),
        "history.csv": _history_csv(history, text_suffixes(spec.get("task"))),
        "weights.safetensors": tensorfile.to_bytes(tensors),
        "series.csv": "value\n" + "".join(f"{v!r}\n" for v in values.tolist()),
        "command.txt": command.strip() + "\n",
    }
    if frames:
        members[FRAMES] = tensorfile.to_bytes(
            {
                f"frame/{int(e)}/{k}": v
                for e, (tensors, _) in frames.items()
                for k, v in tensors.items()
            },
            {"frames": {str(int(e)): dict(frame_meta) for e, (_, frame_meta) in frames.items()}},
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, content in members.items():
            zf.writestr(member, content)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def text_suffixes(task: object) -> tuple[str, ...]:
    """The history columns of `task` that hold text, as suffixes: the text task's samples
    are `<model>_sample` (its class's `texts`). No task, or one not known here: none."""
    from gru_core.tasks import TASKS, task_class

    return getattr(task_class(task), "texts", ()) if isinstance(task, str) and task in TASKS else ()


def _is_text(column: str, texts: tuple[str, ...]) -> bool:
    return any(column.endswith(f"_{suffix}") for suffix in texts)


def _history_csv(history: list[Mapping], texts: tuple[str, ...] = ()) -> str:
    """One row an epoch; floats as their shortest exact text, None as an empty cell; the
    columns ending in a `texts` suffix hold their text as it is (quoted where CSV needs)."""
    columns: dict[str, None] = {}
    for row in history:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in history:
        writer.writerow(_cell(column, row.get(column), texts) for column in columns)
    return out.getvalue()


def _cell(column: str, value: object, texts: tuple[str, ...] = ()) -> str:
    if value is None:
        return ""
    if _is_text(column, texts) and isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"history column {column!r} holds {value!r}, not a number")
    return str(int(value)) if column == "epoch" else repr(float(value))


def read_bundle(
    source: bytes | str | os.PathLike,
    *,
    expected_shapes: Shapes | None = None,
    max_bytes: int = MAX_BUNDLE_BYTES,
    max_unpacked: int = MAX_UNPACKED_BYTES,
) -> Bundle:
    """Parse and check a bundle (its bytes, or a path); `BundleError` names what is wrong.

    With `expected_shapes`, the tensors must be exactly those names with those shapes.
    """
    data = _bundle_bytes(source, max_bytes)
    _check_entry_count(data)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError):
        raise BundleError(t("bundle.error.zip_archive_run")) from None
    _check_entries(infos)
    _check_sizes(infos, max_unpacked)
    by_name = {info.filename: info for info in infos}
    if "config.json" not in by_name:
        raise BundleError(t("bundle.error.bundle_config_json"))
    config = _parse_config(_read(zf, by_name["config.json"], max_unpacked))
    unknown = sorted(set(by_name) - {*MEMBERS, FRAMES})
    if unknown:
        raise BundleError(
            t(
                "bundle.error.bundle_unknown_member",
                unknown=repr(unknown[0]),
                names=", ".join(MEMBERS),
            )
        )
    missing = [m for m in MEMBERS if m not in by_name]
    if missing:
        raise BundleError(t("bundle.error.bundle_incomplete", missing=missing[0]))
    contents = {m: _read(zf, by_name[m], max_unpacked) for m in MEMBERS[1:]}
    shapes = _shapes(expected_shapes, config)
    history = _parse_history(contents["history.csv"], text_suffixes(config["spec"].get("task")))
    tensors = _parse_weights(contents["weights.safetensors"], shapes)
    frames = {}
    if FRAMES in by_name:
        last = max((row["epoch"] for row in history), default=0)
        frames = _parse_frames(_read(zf, by_name[FRAMES], max_unpacked), shapes, last)
    return Bundle(
        config=config,
        history=history,
        tensors=tensors,
        series=_parse_series(contents["series.csv"]),
        command=_text(contents["command.txt"], "command.txt").strip(),
        frames=frames,
    )


def _shapes(expected: Shapes | None, config: dict) -> Mapping[str, tuple[int, ...]] | None:
    """The expected tensor shapes; a spec the engine rejects is the bundle's fault."""
    if not callable(expected):
        return expected
    try:
        return expected(config)
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(t("bundle.error.config_json_run", exc=_one_line(exc))) from None


def _bundle_bytes(source: bytes | str | os.PathLike, max_bytes: int) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        size = len(source)
    else:
        try:
            size = os.path.getsize(source)
        except OSError as exc:
            raise BundleError(
                t("bundle.error.cannot_read", source=source, strerror=exc.strerror or exc)
            ) from None
    if size > max_bytes:
        raise BundleError(
            t("bundle.error.bundle_over_limit", size=_mb(size), max_bytes=_mb(max_bytes))
        )
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    try:
        with open(source, "rb") as f:
            return f.read(max_bytes + 1)
    except OSError as exc:
        raise BundleError(
            t("bundle.error.cannot_read", source=source, strerror=exc.strerror or exc)
        ) from None


def _check_entry_count(data: bytes) -> None:
    """Refuse a central directory of many entries before zipfile builds an object for each."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65_535))
    if end < 0 or len(data) < end + 22:
        return  # not a zip: zipfile says so next
    (entries,) = struct.unpack("<H", data[end + 10 : end + 12])
    if entries > 4 * len(MEMBERS):  # 0xFFFF (zip64) included: no bundle needs it
        raise BundleError(
            t("bundle.error.bundle_entries_run", entries=f"{entries:,}", count=len(MEMBERS))
        )


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _check_entries(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse unsafe names, links, directories, encryption, odd compression, duplicates."""
    seen: set[str] = set()
    for info in infos:
        name = info.orig_filename
        parts = name.split("/")
        if (
            not name
            or "\\" in name
            or "\0" in name
            or name.startswith("/")
            or (len(name) > 1 and name[1] == ":")
            or ".." in parts
        ):
            raise BundleError(t("bundle.error.bundle_unsafe_member", name=repr(name)))
        if stat.S_ISLNK(info.external_attr >> 16):
            raise BundleError(t("bundle.error.bundle_member_symbolic", name=repr(name)))
        if name.lower().endswith(_PICKLE_SUFFIXES):
            raise BundleError(t("bundle.error.bundle_pickle_format", name=repr(name)))
        if name in seen:
            raise BundleError(t("bundle.error.bundle_twice_refused", name=repr(name)))
        seen.add(name)
        if info.flag_bits & 0x1:
            raise BundleError(t("bundle.error.bundle_member_encrypted", name=repr(name)))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleError(
                t(
                    "bundle.error.bundle_member_uses",
                    name=repr(name),
                    compress_type=info.compress_type,
                )
            )


def _cap(name: str, max_unpacked: int) -> int:
    return min(_SMALL.get(name, max_unpacked), max_unpacked)


def _check_sizes(infos: list[zipfile.ZipInfo], max_unpacked: int) -> None:
    """Refuse, from the central directory, members or totals that unpack too large."""
    total = sum(info.file_size for info in infos)
    if total > max_unpacked:
        raise BundleError(
            t("bundle.error.bundle_unpacks_over", total=_mb(total), max_unpacked=_mb(max_unpacked))
        )
    for info in infos:
        if info.file_size > _cap(info.filename, max_unpacked):
            raise BundleError(
                t(
                    "bundle.error.unpacks_over_limit",
                    filename=info.filename,
                    file_size=_mb(info.file_size),
                    limit=_mb(_cap(info.filename, max_unpacked)),
                )
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 2**20 and ratio > MAX_RATIO:
            raise BundleError(
                t(
                    "bundle.error.compressed_beyond_any",
                    filename=info.filename,
                    ratio=f"{ratio:.0f}",
                )
            )


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, max_unpacked: int) -> bytes:
    """A member's bytes, read no further than its declared size allows, CRC checked."""
    limit = min(info.file_size, _cap(info.filename, max_unpacked))
    try:
        with zf.open(info) as f:
            content = f.read(limit + 1)
            if len(content) <= limit:
                f.read(1)  # reach the end, where zipfile checks the CRC
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise BundleError(
            t("bundle.error.damaged_refused", filename=info.filename, exc=_one_line(exc))
        ) from None
    if len(content) != info.file_size:
        raise BundleError(
            t(
                "bundle.error.unpacks_more_than",
                filename=info.filename,
                file_size=f"{info.file_size:,}",
            )
        )
    return content


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _pickle_hint(name: str, content: bytes) -> None:
    """Refuse content that is a pickle (protocol 2+ magic) or a torch.save zip."""
    if content[:1] == b"\x80" and content[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        what = t("bundle.error.pickle")
    elif content[:4] == b"PK\x03\x04":
        what = t("bundle.error.torch_zip")
    else:
        return
    raise BundleError(t("bundle.error.format_refused_since", name=name, what=what))


def _text(content: bytes, name: str) -> str:
    _pickle_hint(name, content)
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(t("bundle.error.utf_text_byte", name=name, start=exc.start)) from None


def _refuse_constant(value: str) -> float:
    raise ValueError(f"{value} is not a number JSON allows")


def _parse_config(content: bytes) -> dict:
    try:
        config = json.loads(_text(content, "config.json"), parse_constant=_refuse_constant)
    except BundleError:
        raise
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep to parse
        raise BundleError(t("bundle.error.config_json_valid", exc=_one_line(exc))) from None
    if not isinstance(config, dict):
        raise BundleError(t("bundle.error.config_json_json"))
    fmt = config.get("format")
    if isinstance(fmt, bool) or not isinstance(fmt, int):
        raise BundleError(t("bundle.error.config_json_bundle", fmt=repr(fmt)))
    if fmt != FORMAT:
        newer = t("bundle.error.newer") if fmt > FORMAT else ""
        raise BundleError(t("bundle.error.bundle_format_one", fmt=fmt, format=FORMAT, newer=newer))
    for key, kind in (("spec", dict), ("versions", dict), ("meta", dict), ("name", str)):
        if not isinstance(config.get(key), kind):
            raise BundleError(t("bundle.error.config_json", key=key, name=kind.__name__))
    return config


def _parse_history(content: bytes, texts: tuple[str, ...] = ()) -> list[dict]:
    # newline="": a text cell may hold line breaks, inside its quotes
    lines = io.StringIO(_text(content, "history.csv"), newline="")
    try:
        rows = list(csv.reader(lines))
    except csv.Error as exc:
        raise BundleError(t("bundle.error.history_csv_valid", exc=_one_line(exc))) from None
    if not rows or "epoch" not in rows[0]:
        raise BundleError(t("bundle.error.history_csv_header"))
    header = rows[0]
    if len(set(header)) != len(header):
        raise BundleError(t("bundle.error.history_csv_names"))
    history = []
    for line, cells in enumerate(rows[1:], start=2):
        if len(cells) != len(header):
            raise BundleError(
                t("bundle.error.history_csv_line", line=line, count=len(cells), count2=len(header))
            )
        row = {}
        for column, cell in zip(header, cells, strict=True):
            if _is_text(column, texts):
                row[column] = None if cell == "" else cell
                continue
            try:
                row[column] = None if cell == "" else float(cell)
            except ValueError:
                raise BundleError(
                    t("bundle.error.history_csv_line3", line=line, cell=repr(cell[:40]))
                ) from None
        epoch = row["epoch"]
        if epoch is None or not epoch.is_integer() or epoch < 0:
            raise BundleError(t("bundle.error.history_csv_line2", line=line, epoch=repr(epoch)))
        row["epoch"] = int(epoch)
        history.append(row)
    return history


def _parse_series(content: bytes) -> np.ndarray:
    _pickle_hint("series.csv", content)
    try:
        return load_series(content, column="value")
    except DataError as exc:
        raise BundleError(t("bundle.error.series_csv", exc=exc)) from None


def _parse_weights(content: bytes, shapes: Mapping[str, tuple[int, ...]] | None) -> dict:
    name = "weights.safetensors"
    try:
        infos, _ = tensorfile.header(content)
    except tensorfile.TensorFileError as exc:
        _pickle_hint(name, content)
        raise BundleError(t("bundle.error.safetensors_file", name=name, exc=exc)) from None
    for tensor, info in infos.items():
        if info.dtype not in _DTYPES:
            raise BundleError(
                t("bundle.error.tensor_weights_f", name=name, tensor=repr(tensor), dtype=info.dtype)
            )
    if shapes is not None:
        expected = {k: tuple(v) for k, v in shapes.items()}
        missing = sorted(set(expected) - set(infos))
        extra = sorted(set(infos) - set(expected))
        if missing or extra:
            which = (
                t("bundle.error.lacks", tensor=repr(missing[0]))
                if missing
                else t("bundle.error.unexpected", tensor=repr(extra[0]))
            )
            raise BundleError(t("bundle.error.does_match_run", name=name, which=which))
        for tensor, shape in expected.items():
            if infos[tensor].shape != shape:
                raise BundleError(
                    t(
                        "bundle.error.tensor_shape_run",
                        name=name,
                        tensor=repr(tensor),
                        shape=list(infos[tensor].shape),
                        shape2=list(shape),
                    )
                )
    return _finite(name, content)


def _finite(name: str, content: bytes) -> dict[str, torch.Tensor]:
    """The tensors of safetensors bytes whose header was checked; every value finite."""
    try:
        tensors, _ = tensorfile.from_bytes(content)
    except tensorfile.TensorFileError as exc:
        raise BundleError(t("bundle.error.damaged", name=name, exc=exc)) from None
    for tensor, value in tensors.items():
        if not bool(torch.isfinite(value).all()):
            bad = "NaN" if bool(torch.isnan(value).any()) else t("bundle.error.infinite")
            raise BundleError(
                t("bundle.error.tensor_values_refused", name=name, tensor=repr(tensor), bad=bad)
            )
    return tensors


def _parse_frames(
    content: bytes, shapes: Mapping[str, tuple[int, ...]] | None, last: int
) -> dict[int, tuple[dict[str, torch.Tensor], dict]]:
    """The replay frames: every frame's weights complete and shaped as the run's, its epoch
    one the history has, its meta an object; epoch -> (flat tensors, meta)."""
    try:
        infos, meta = tensorfile.header(content)
    except tensorfile.TensorFileError as exc:
        _pickle_hint(FRAMES, content)
        raise BundleError(t("bundle.error.safetensors_file", name=FRAMES, exc=exc)) from None
    listed = meta.get("frames")
    if not isinstance(listed, dict) or not 0 < len(listed) <= MAX_FRAMES:
        raise BundleError(t("bundle.error.frames_list", name=FRAMES, most=MAX_FRAMES))
    epochs = {}
    for key, frame_meta in listed.items():
        epoch = int(key) if isinstance(key, str) and key.isdecimal() else -1
        if not 0 <= epoch <= last or str(epoch) != key or not isinstance(frame_meta, dict):
            raise BundleError(
                t("bundle.error.frame_epoch", name=FRAMES, epoch=repr(key), last=last)
            )
        epochs[epoch] = {}
    for tensor, info in infos.items():
        found = _FRAME_NAME.fullmatch(tensor)
        if found is None or int(found[1]) not in epochs:
            raise BundleError(t("bundle.error.frame_tensor", name=FRAMES, tensor=repr(tensor)))
        if info.dtype not in _DTYPES:
            raise BundleError(
                t(
                    "bundle.error.tensor_weights_f",
                    name=FRAMES,
                    tensor=repr(tensor),
                    dtype=info.dtype,
                )
            )
        epochs[int(found[1])][found[2]] = info.shape
    if shapes is not None:
        weights = {k for k in shapes if k.startswith("model/")}
        for epoch, got in epochs.items():
            wrong = sorted(weights - set(got))
            wrong += sorted(k for k, shape in got.items() if tuple(shapes.get(k, ())) != shape)
            if wrong:
                raise BundleError(
                    t(
                        "bundle.error.frame_mismatch",
                        name=FRAMES,
                        epoch=epoch,
                        tensor=repr(wrong[0]),
                    )
                )
    tensors = _finite(FRAMES, content)
    return {
        epoch: ({k: tensors[f"frame/{epoch}/{k}"] for k in epochs[epoch]}, listed[str(epoch)])
        for epoch in sorted(epochs)
    }
