"""Flat tensor dicts as safetensors bytes, with a JSON meta dict, and their header read alone.

safetensors is an 8-byte header length, a JSON header (names, dtypes, shapes, offsets) and
raw little-endian buffers: reading one never runs code. `header` parses the JSON part
without touching the buffers, so a caller can refuse wrong dtypes or shapes before loading.
This module knows nothing of runs, workspaces or bundles.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from safetensors import SafetensorError
from safetensors.torch import load as _load
from safetensors.torch import save as _save

MAX_HEADER = 16 * 2**20  # bytes of JSON header accepted; real ones are a few KiB


class TensorFileError(ValueError):
    """Bytes that are not a well-formed safetensors file; the message says what is wrong."""


@dataclass(frozen=True)
class TensorInfo:
    """What the header says of one tensor."""

    dtype: str  # safetensors dtype name: F32, F64, I64, ...
    shape: tuple[int, ...]


def to_bytes(tensors: Mapping[str, torch.Tensor], meta: Mapping | None = None) -> bytes:
    """`tensors` (CPU) and a JSON-able `meta` dict as safetensors bytes."""
    plain = {name: t.detach().to("cpu").contiguous() for name, t in tensors.items()}
    return _save(plain, metadata={"meta": json.dumps(dict(meta or {}), allow_nan=False)})


def header(data: bytes) -> tuple[dict[str, TensorInfo], dict]:
    """The tensors' names, dtypes and shapes, and the meta dict, read from the header only."""
    if len(data) < 8:
        raise TensorFileError(f"{len(data)} bytes are too short for a safetensors file")
    (size,) = struct.unpack("<Q", data[:8])
    if size > min(MAX_HEADER, len(data) - 8):
        raise TensorFileError(f"its header claims {size:,} bytes; the file has {len(data):,}")
    try:
        parsed = json.loads(bytes(data[8 : 8 + size]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TensorFileError("its header is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise TensorFileError("its header is not a JSON object")
    extra = parsed.pop("__metadata__", None) or {}
    infos = {}
    for name, entry in parsed.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        if not isinstance(dtype, str) or not isinstance(shape, list):
            raise TensorFileError(f"tensor {name!r} has no dtype or shape in the header")
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise TensorFileError(f"tensor {name!r} has a malformed shape {shape!r}")
        infos[name] = TensorInfo(dtype, tuple(shape))
    try:
        meta = json.loads(extra.get("meta", "{}")) if isinstance(extra, dict) else None
    except (TypeError, ValueError):
        meta = None
    if not isinstance(meta, dict):
        raise TensorFileError("its meta data is not a JSON object")
    return infos, meta


def from_bytes(data: bytes) -> tuple[dict[str, torch.Tensor], dict]:
    """The tensors and the meta dict of safetensors bytes."""
    _, meta = header(data)
    try:
        return _load(bytes(data)), meta
    except (SafetensorError, ValueError, TypeError) as exc:
        raise TensorFileError(f"its tensors cannot be read ({_one_line(exc)})") from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
