"""Replay: which epochs of a run keep their weights, and the models as they were at an epoch.

A trainer keeps a *frame* (every model's weights and carried state, CPU copies) at the
epochs `kept_epochs` names: every epoch of a short run; for a long one every epoch up to
`DENSE`, then epochs spaced evenly on a log scale up to the last, never more than
`MAX_KEPT` frames and never more than `MAX_BYTES` of weights (a bigger model keeps fewer
frames, at least two: the first and the last). The schedule depends only on the run's
epoch count and its models' sizes, so a resumed run keeps the same epochs.

A frame is `{"weights": {model: state dict}, "states": {model: carried state}}`.
`frame_at(frames, epoch)` gives the frame of the nearest kept epoch at or before `epoch`.
`flatten` / `unflatten` turn a frame into the flat tensor names a safetensors file holds
(the names `Trainer.resumable_state` uses for weights and states) and back. Nothing here
knows of a UI, a process or a store.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping

import numpy as np
import torch

from gru_core.recording import weights_of

DENSE = 100  # every epoch up to this one is kept
MAX_KEPT = 200  # frames kept per run at most (epoch 0 included)
MAX_BYTES = 256 * 2**20  # weights kept per run at most, in bytes (above two frames)

Frame = dict  # {"weights": {model: {param: Tensor}}, "states": {model: state or None}}


def kept_epochs(
    total: int,
    frame_bytes: int = 0,
    *,
    dense: int = DENSE,
    most: int = MAX_KEPT,
    budget: int = MAX_BYTES,
) -> tuple[int, ...]:
    """The epochs (0 = before training, up to `total`) whose frames a run of `total` keeps.

    `frame_bytes`: the size of one frame's weights; the count kept is at most
    `budget // frame_bytes` (and `most`), and never under 2 (epochs 0 and `total`).
    All epochs while they fit; else the first `dense` (fewer where the count is small)
    and log-spaced ones after, the last being `total`.
    """
    if total < 0:
        raise ValueError(f"a run has a non-negative number of epochs; got {total}")
    cap = max(2, min(most, budget // max(1, frame_bytes)))
    if total + 1 <= cap:
        return tuple(range(total + 1))
    dense = min(dense, cap // 2, cap - 2)  # at least one log-spaced epoch after it: `total`
    tail = cap - (dense + 1)  # log-spaced epochs after the dense part, `total` the last
    spaced = np.rint(np.geomspace(max(dense, 1), total, tail + 1)[1:]).astype(int)
    spaced[-1] = total
    return tuple(sorted(set(range(dense + 1)) | {int(e) for e in spaced if e > dense}))


def frame_bytes(models: Mapping[str, torch.nn.Module]) -> int:
    """Bytes of one frame's weights for these models (their state dicts)."""
    return sum(
        v.numel() * v.element_size() for m in models.values() for v in m.state_dict().values()
    )


def bound(frame_size: int) -> int:
    """The most bytes of weights a run with frames of `frame_size` bytes keeps."""
    return max(2, min(MAX_KEPT, MAX_BYTES // max(1, frame_size))) * frame_size


def frame_at(frames: Mapping[int, Frame], epoch: int) -> tuple[int, Frame]:
    """(kept epoch, frame) of the nearest kept epoch at or before `epoch` (else the first)."""
    if not frames:
        raise KeyError("no frames kept")
    epochs = sorted(frames)
    at = epochs[max(0, bisect.bisect_right(epochs, epoch) - 1)]
    return at, frames[at]


def flatten(frame: Frame) -> tuple[dict[str, torch.Tensor], dict]:
    """A frame as flat, contiguous CPU tensors (`model/<name>/<param>`, `state/<name>/<i>`)
    and the JSON-able meta that says how each carried state is put together."""
    tensors: dict[str, torch.Tensor] = {}
    for name, weights in frame["weights"].items():
        for k, v in weights.items():
            tensors[f"model/{name}/{k}"] = v.detach().to("cpu").contiguous()
    parts: dict[str, int | None] = {}
    tuples: dict[str, bool] = {}
    for name, state in (frame.get("states") or {}).items():
        if state is None:
            parts[name] = None
            continue
        flat = state if isinstance(state, tuple) else (state,)
        parts[name], tuples[name] = len(flat), isinstance(state, tuple)
        for i, part in enumerate(flat):
            tensors[f"state/{name}/{i}"] = torch.as_tensor(part).detach().to("cpu").contiguous()
    return tensors, {"state_parts": parts, "state_tuples": tuples}


def unflatten(tensors: Mapping[str, torch.Tensor], meta: Mapping) -> Frame:
    """The inverse of `flatten`."""
    weights, states = weights_of(dict(tensors), dict(meta))
    return {"weights": weights, "states": states}
