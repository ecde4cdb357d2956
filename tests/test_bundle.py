"""Run bundles: a round trip, and real malicious files that must be refused without running."""

import io
import json
import pickle
import stat
import struct
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
import torch

from gru_core import bundle as bundle_mod
from gru_core.bundle import BundleError, read_bundle, write_bundle
from gru_core.data import make_sine

SPEC = {"task": "forecast", "models": [{"name": "gru", "hidden": 4}], "train": {"lr": 5e-3}}
SHAPES = {"model/gru/gru.weight_ih_l0": (12, 1), "state/gru": (1, 1, 4)}
COMMAND = "python -m gru_core train --hidden 4 --lr 5e-3 --save run.zip"


def _tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "model/gru/gru.weight_ih_l0": torch.randn(12, 1, generator=g),
        "state/gru": torch.randn(1, 1, 4, generator=g, dtype=torch.float64),
    }


HISTORY = [
    {"epoch": 1, "lr": 5e-3, "gru_train_loss": 0.1 + 0.2, "gru_test_rollout_mse": None},
    {"epoch": 2, "lr": 4.5e-3, "gru_train_loss": 1 / 3, "gru_test_rollout_mse": 0.0171},
]


def _good(**changes) -> bytes:
    args = {"tensors": _tensors(), "history": HISTORY, "series": make_sine(), **changes}
    return write_bundle(
        SPEC, args["history"], args["tensors"], args["series"], COMMAND, frames=args.get("frames")
    )


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(members: dict | list, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name or ZipInfo, bytes) entries, duplicates and odd names kept as given."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", method) as zf:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted here
        for name, content in members.items() if isinstance(members, dict) else members:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name)
            info.compress_type = method
            zf.writestr(info, content)
    return buffer.getvalue()


def _with(**replace: bytes) -> bytes:
    members = _members(_good())
    for key, content in replace.items():
        members[key.replace("__", ".")] = content
    return _zip(members)


def _without(name: str) -> bytes:
    return _zip({k: v for k, v in _members(_good()).items() if k != name})


def _config(**changes) -> bytes:
    config = json.loads(_members(_good())["config.json"])
    config.update(changes)
    return json.dumps(config).encode()


class _Payload:
    """Unpickling this creates the file at `path`: proof that code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_round_trip_keeps_tensors_history_series_and_settings(tmp_path):
    tensors = _tensors()
    series = make_sine() + 1e-13  # bits no %.6f text would keep
    path = tmp_path / "run.zip"
    data = write_bundle(SPEC, HISTORY, tensors, series, COMMAND, name="hidden 4", path=path)
    assert path.read_bytes() == data
    for source in (data, path, str(path)):
        got = read_bundle(source, expected_shapes=SHAPES)
        assert got.tensors.keys() == tensors.keys()
        for name, tensor in tensors.items():
            assert got.tensors[name].dtype == tensor.dtype
            assert torch.equal(got.tensors[name], tensor)
        assert got.history == HISTORY
        assert got.series.dtype == np.float64 and got.series.tobytes() == series.tobytes()
        assert got.spec == SPEC and got.command == COMMAND
        assert got.config["name"] == "hidden 4" and got.config["format"] == bundle_mod.FORMAT
        assert got.config["versions"] == bundle_mod.versions()
        assert got.config["versions"]["torch"] == torch.__version__
    assert sorted(_members(data)) == sorted(bundle_mod.MEMBERS)


def test_download_names_name_the_run():
    assert bundle_mod.filename("hidden 4 · lr 5e-3") == "hidden-4-lr-5e-3.zip"
    assert bundle_mod.filename("隐藏单元 16") == "隐藏单元-16.zip"
    assert bundle_mod.filename("../../etc/passwd") == "etc-passwd.zip"
    assert bundle_mod.filename("a\\b:c*?<>|") == "a-b-c.zip"
    assert bundle_mod.filename("") == bundle_mod.filename("...") == "run.zip"
    assert len(bundle_mod.filename("x" * 500)) == 84


def test_history_values_are_written_as_exact_numbers():
    rows = [{"epoch": np.int64(1), "lr": np.float64(0.1), "loss": np.float32(0.5), "x": None}]
    got = read_bundle(_good(history=rows)).history
    assert got == [{"epoch": 1, "lr": 0.1, "loss": 0.5, "x": None}]
    assert type(got[0]["epoch"]) is int
    with pytest.raises(ValueError, match="history column 'note' holds 'fast', not a number"):
        _good(history=[{"epoch": 1, "note": "fast"}])


def test_a_text_runs_samples_make_the_round_trip_as_text():
    samples = ["床前明月光，\n疑是地上霜。", 'a "quoted", comma\r\nline', "1.5", ""]
    rows = [
        {"epoch": e + 1, "gru_train_loss": 2.0 - e, "gru_sample": s} for e, s in enumerate(samples)
    ]
    spec = {**SPEC, "task": "text"}
    data = write_bundle(spec, rows, _tensors(), make_sine(), COMMAND)
    got = read_bundle(data).history
    assert [r["gru_sample"] for r in got] == [*samples[:3], None]  # "1.5" stays text
    assert [r["gru_train_loss"] for r in got] == [2.0, 1.0, 0.0, -1.0]
    # Only the text task's sample columns hold text: the same rows as a forecast run do not.
    with pytest.raises(ValueError, match="history column 'gru_sample' holds"):
        write_bundle(SPEC, rows, _tensors(), make_sine(), COMMAND)


def test_expected_shapes_may_come_from_the_config():
    seen = []

    def shapes(config: dict) -> dict:
        seen.append(config["spec"])
        hidden = config["spec"]["models"][0]["hidden"]
        return {"model/gru/gru.weight_ih_l0": (3 * hidden, 1), "state/gru": (1, 1, hidden)}

    assert read_bundle(_good(), expected_shapes=shapes).spec == SPEC
    assert seen == [SPEC]
    with pytest.raises(BundleError, match=r"shape \[1, 1, 4\], the run's models need \[1, 1, 8\]"):
        read_bundle(_good(), expected_shapes=lambda c: {**shapes(c), "state/gru": (1, 1, 8)})


def test_a_pickle_never_runs(tmp_path, monkeypatch):
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Payload(control)))
    assert control.exists()  # the payload is real: unpickling it runs code

    marker = tmp_path / "marker"
    payload = pickle.dumps(_Payload(marker), protocol=2)
    torch_file = io.BytesIO()
    torch.save({"weights": _Payload(marker)}, torch_file)

    def forbidden(*args, **kwargs):
        raise AssertionError("a load path unpickled")

    for name in ("loads", "load", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    cases = [
        (_with(weights__safetensors=payload), "weights.safetensors holds a pickle"),
        (
            _with(weights__safetensors=pickle.dumps(_Payload(marker), protocol=5)),
            "holds a pickle",
        ),
        (_with(weights__safetensors=torch_file.getvalue()), "torch.save files are pickles"),
        (_with(history__csv=payload), "history.csv holds a pickle"),
        (_with(series__csv=payload), "series.csv holds a pickle"),
        (_with(config__json=payload), "config.json holds a pickle"),
        (_with(**{"model__pkl": payload}), "'model.pkl', a pickle-format file"),
        (_with(**{"weights__pt": torch_file.getvalue()}), "'weights.pt', a pickle-format file"),
        (_with(config__json=pickle.dumps(_Payload(marker), protocol=0)), "not valid JSON"),
        (payload, "not a zip archive"),
    ]
    for data, message in cases:
        with pytest.raises(BundleError, match=message):
            read_bundle(data, expected_shapes=SHAPES)
    assert not marker.exists()


def _bad_tensors(**tensors) -> bytes:
    return _with(weights__safetensors=bundle_mod.tensorfile.to_bytes(tensors))


NAN = torch.tensor([[1.0], [float("nan")]])


def _symlink() -> bytes:
    info = zipfile.ZipInfo("series.csv")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    members = [(k, v) for k, v in _members(_good()).items() if k != "series.csv"]
    return _zip([*members, (info, b"/etc/passwd")])


REFUSED = {
    "no such file": ("/nonexistent/run.zip", {}, "cannot read /nonexistent/run.zip"),
    "empty": (b"", {}, "not a zip archive"),
    "csv": (b"1.0\n2.0\n", {}, "not a zip archive"),
    "truncated zip": (_good()[:-30], {}, "not a zip archive"),
    "many entries": (_zip({f"m{i}": b"" for i in range(1000)}), {}, "holds 1,000 entries"),
    "unknown member": (_with(notes__txt=b"hello"), {}, "unknown member 'notes.txt'"),
    "directory entry": (_with(**{"extra/": b""}), {}, "unknown member 'extra/'"),
    "missing history": (_without("history.csv"), {}, "has no history.csv"),
    "missing weights": (_without("weights.safetensors"), {}, "has no weights.safetensors"),
    "missing config": (_without("config.json"), {}, "has no config.json"),
    "absolute name": (_with(**{"/etc/passwd": b"x"}), {}, "unsafe member name '/etc/passwd'"),
    "dot-dot name": (_with(**{"../config.json": b"{}"}), {}, r"unsafe member name '\.\./"),
    "inner dot-dot": (_with(**{"a/../../x": b"x"}), {}, "unsafe member name"),
    "backslash name": (_with(**{"..\\x": b"x"}), {}, "unsafe member name"),
    "drive name": (_with(**{"C:/x": b"x"}), {}, "unsafe member name"),
    "symlink": (_symlink(), {}, "'series.csv' is a symbolic link"),
    "duplicate": (
        _zip([*_members(_good()).items(), ("config.json", _config())]),
        {},
        "'config.json' twice",
    ),
    "over the size cap": (_good(), {"max_bytes": 1000}, r"the bundle is .* over the 0\.0 MiB"),
    "member over its cap": (_with(command__txt=b"x" * 70_000), {}, "command.txt unpacks to"),
    "bzip2": (_zip(_members(_good()), zipfile.ZIP_BZIP2), {}, "compression method 12"),
    "json": (_with(config__json=b"{"), {}, "config.json is not valid JSON"),
    "json nan": (_with(config__json=b'{"format": NaN}'), {}, "NaN is not a number"),
    "json list": (_with(config__json=b"[]"), {}, "config.json is not a JSON object"),
    "deep json": (_with(config__json=b"[" * 100_000), {}, "config.json is not valid JSON"),
    "spec rejected": (
        _good(),
        {"expected_shapes": lambda config: {"w": (config["spec"]["models"][0]["layers"],)}},
        "config.json holds a run spec that does not fit: 'layers'",
    ),
    "no spec": (_with(config__json=_config(spec=[1])), {}, "config.json has no spec dict"),
    "latin-1": (_with(command__txt=b"caf\xe9"), {}, "command.txt is not UTF-8"),
    "no format": (_with(config__json=_config(format=None)), {}, "no bundle format number"),
    "newer format": (_with(config__json=_config(format=2)), {}, "format 2 .* newer GRU Lab"),
    "older format": (_with(config__json=_config(format=0)), {}, "format 0 is not one"),
    "history text": (_with(history__csv=b"epoch,loss\n1,abc\n"), {}, "line 2: 'abc' is not"),
    "history cells": (_with(history__csv=b"epoch,loss\n1\n"), {}, "line 2 has 1 cells, not 2"),
    "history epoch": (_with(history__csv=b"loss\n1\n"), {}, "no header with an epoch column"),
    "history half": (_with(history__csv=b"epoch\n1.5\n"), {}, "epoch 1.5 is not a count"),
    "series text": (_with(series__csv=b"value\nabc\n"), {}, "series.csv: "),
    "series short": (_with(series__csv=b"value\n1\n2\n"), {}, "series.csv: the series has 2"),
    "not safetensors": (_with(weights__safetensors=b"\x01" * 20), {}, "not a safetensors file"),
    "int weights": (_bad_tensors(w=torch.ones(2, dtype=torch.int64)), {}, "'w' is I64"),
    "half weights": (_bad_tensors(w=torch.ones(2, dtype=torch.float16)), {}, "'w' is F16"),
    "nan weights": (_bad_tensors(**{"model/gru/gru.weight_ih_l0": NAN}), {}, "holds NaN"),
    "inf weights": (_bad_tensors(w=torch.tensor([1.0, float("inf")])), {}, "holds infinite"),
    "wrong shape": (
        _good(),
        {"expected_shapes": {**SHAPES, "state/gru": (1, 1, 8)}},
        r"'state/gru' has shape \[1, 1, 4\], the run's models need \[1, 1, 8\]",
    ),
    "missing tensor": (
        _good(),
        {"expected_shapes": {**SHAPES, "model/mlp/net.0.weight": (32, 1)}},
        "lacks 'model/mlp/net.0.weight'",
    ),
    "extra tensor": (
        _good(),
        {"expected_shapes": {"state/gru": (1, 1, 4)}},
        "unexpected 'model/gru/gru.weight_ih_l0'",
    ),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_bad_bundles_are_refused_with_one_line(case):
    data, kwargs, message = REFUSED[case]
    with pytest.raises(BundleError, match=message) as refused:
        read_bundle(data, **kwargs)
    assert "\n" not in str(refused.value)


def test_the_good_bundle_behind_the_refusals_is_accepted():
    """Control: the refusals above come from their one change, not a broken base bundle."""
    assert read_bundle(_with(), expected_shapes=SHAPES).history == HISTORY
    good = _good()  # once: its "created" stamp can change its packed size by a byte
    assert read_bundle(good, max_bytes=len(good)).command == COMMAND


BOMB = 48 * 2**20  # zeros: deflate packs 48 MiB into ~50 KiB


def test_a_zip_bomb_is_refused_from_the_central_directory():
    bomb = _with(history__csv=b"0" * BOMB)
    assert len(bomb) < 200_000  # a modest file, far below the 64 MiB bundle cap
    with pytest.raises(BundleError, match="over the 8.0 MiB limit"):
        read_bundle(bomb, max_unpacked=8 * 2**20)
    with pytest.raises(BundleError, match="compressed .* to 1, .* zip bomb"):
        read_bundle(bomb)  # within the default total, but no real run compresses so well


def test_a_zip_bomb_that_lies_about_its_size_is_stopped_while_reading():
    data = bytearray(_with(history__csv=b"0" * BOMB))
    # history.csv's central directory entry: its name follows 46 bytes of fixed fields.
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + 11] != b"history.csv":
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24 : entry + 28] = struct.pack("<I", 1000)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        assert zf.getinfo("history.csv").file_size == 1000  # the lie passes the size checks
    tracemalloc.start()
    try:
        with pytest.raises(BundleError, match="history.csv is damaged"):
            read_bundle(bytes(data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20  # never inflated the 48 MiB it hides


# -- replay frames -------------------------------------------------------------------------


def _frames() -> dict:
    g = torch.Generator().manual_seed(1)
    return {
        epoch: (
            {"model/gru/gru.weight_ih_l0": torch.randn(12, 1, generator=g)},
            {"state_parts": {"gru": None}, "state_tuples": {}},
        )
        for epoch in (0, 1, 2)
    }


def test_replay_frames_make_the_round_trip():
    frames = _frames()
    found = read_bundle(_good(frames=frames), expected_shapes=SHAPES)
    assert sorted(found.frames) == [0, 1, 2]
    for epoch, (tensors, meta) in frames.items():
        assert found.frames[epoch][1] == meta
        assert found.frames[epoch][0].keys() == tensors.keys()
        for key, value in tensors.items():
            assert torch.equal(found.frames[epoch][0][key], value)
    assert read_bundle(_good(), expected_shapes=SHAPES).frames == {}  # optional


def _with_frames(tensors: dict, meta: dict) -> bytes:
    from gru_core import tensorfile

    return _with(frames__safetensors=tensorfile.to_bytes(tensors, meta))


LISTED = {"frames": {"0": {}, "2": {}}}
W = torch.zeros(12, 1)


@pytest.mark.parametrize(
    ("tensors", "meta", "message"),
    [
        ({"frame/0/model/gru/gru.weight_ih_l0": W}, {}, "does not list its frames"),
        ({"frame/3/model/gru/gru.weight_ih_l0": W}, {"frames": {"3": {}}}, "epoch '3'; the run"),
        ({"frame/1/model/gru/gru.weight_ih_l0": W}, {"frames": {"01": {}}}, "epoch '01'"),
        ({"frame/0/model/gru/gru.weight_ih_l0": W}, {"frames": {"0": []}}, "epoch '0'"),
        (
            {"frame/0/model/gru/gru.weight_ih_l0": W, "frame/1/model/gru/gru.weight_ih_l0": W + 1},
            {"frames": {"0": {}}},
            "tensor 'frame/1/model/gru/gru.weight_ih_l0' of no frame",
        ),
        (
            {"frame/0/model/gru/gru.weight_ih_l0": W, "frame/2/model/gru/other": W + 1},
            LISTED,
            "frame at epoch 2 does not match the run .'model/gru/gru.weight_ih_l0'",
        ),
        (
            {"frame/0/model/gru/gru.weight_ih_l0": torch.zeros(12, 2)},
            {"frames": {"0": {}}},
            "frame at epoch 0 does not match",
        ),
        (
            {"frame/0/model/gru/gru.weight_ih_l0": W.to(torch.int64)},
            {"frames": {"0": {}}},
            "I64",
        ),
        (
            {"frame/0/model/gru/gru.weight_ih_l0": W / 0},
            {"frames": {"0": {}}},
            "NaN values",
        ),
    ],
)
def test_frames_that_do_not_fit_the_run_are_refused_naming_why(tensors, meta, message):
    with pytest.raises(BundleError, match=message):
        read_bundle(_with_frames(tensors, meta), expected_shapes=SHAPES)


def test_frames_in_a_pickle_are_refused_as_one():
    with pytest.raises(BundleError, match="frames.safetensors"):
        read_bundle(_with(frames__safetensors=pickle.dumps({"w": [1.0]})))
