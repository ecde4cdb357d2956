"""Tensor dicts as safetensors bytes: round trip, and the header read alone."""

import json
import struct

import pytest
import torch
from safetensors.torch import save

from gru_core.tensorfile import TensorFileError, TensorInfo, from_bytes, header, to_bytes


def _raw(head: dict, body: bytes = b"") -> bytes:
    text = json.dumps(head).encode()
    return struct.pack("<Q", len(text)) + text + body


def test_round_trip_keeps_values_dtypes_and_meta():
    tensors = {
        "model/gru/gru.weight_hh_l0": torch.randn(48, 16),
        "state/gru": torch.randn(1, 2, 16, dtype=torch.float64),
        "optim/gru/0/step": torch.tensor(12.0),
    }
    data = to_bytes(tensors, {"epoch": 12, "models": ["gru"]})
    got, meta = from_bytes(data)
    assert meta == {"epoch": 12, "models": ["gru"]}
    assert got.keys() == tensors.keys()
    assert all(got[k].dtype == v.dtype and torch.equal(got[k], v) for k, v in tensors.items())
    infos, _ = header(data)
    assert infos == {
        "model/gru/gru.weight_hh_l0": TensorInfo("F32", (48, 16)),
        "state/gru": TensorInfo("F64", (1, 2, 16)),
        "optim/gru/0/step": TensorInfo("F32", ()),
    }


def test_a_plain_safetensors_file_has_empty_meta():
    assert from_bytes(save({"w": torch.ones(2)}))[1] == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x02", "too short"),
        (struct.pack("<Q", 10**9) + b"{}", "claims 1,000,000,000 bytes"),
        (_raw({"w": {"dtype": "F32"}}), "'w' has no dtype or shape"),
        (_raw({"w": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 8]}}), "malformed"),
        (struct.pack("<Q", 2) + b"\xff\xfe", "not valid JSON"),
        (_raw([1, 2]), "not a JSON object"),
        (_raw({"__metadata__": {"meta": "[1]"}}), "meta data is not a JSON object"),
        (_raw({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8), "read"),
    ],
)
def test_malformed_files_are_refused(data, message):
    with pytest.raises(TensorFileError, match=message):
        from_bytes(data)
