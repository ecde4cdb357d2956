import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gru_core.__main__ import main
from gru_core.config import PRESETS

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gru_core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_data_command_writes_the_tutorial_file(tmp_path):
    out = tmp_path / "s.csv"
    assert main(["data", "--out", str(out)]) == 0
    assert out.read_bytes() == (ROOT / "assets" / "sindata_1000.csv").read_bytes()


def test_data_command_options(tmp_path):
    out = tmp_path / "s.csv"
    assert main(["data", "--out", str(out), "--points", "120", "--noise", "0", "--seed", "3"]) == 0
    assert len(out.read_text().splitlines()) == 120


def test_train_json_shape(tmp_path):
    data = tmp_path / "d.csv"
    main(["data", "--out", str(data), "--points", "300", "--periods", "3"])
    proc = _run("train", "--data", str(data), "--epochs", "2", "--hidden", "4", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result) == {
        "preset",
        "device",
        "epochs",
        "train_seconds",
        "reached_target",
        "gru",
        "mlp",
    }
    for model in ("gru", "mlp"):
        assert set(result[model]) == {
            "train_loss",
            "test_one_step_mse",
            "test_rollout_mse",
            "test_rollout_mae",
        }
        assert all(isinstance(v, float) for v in result[model].values())
    assert result["epochs"] == 2 and result["device"] == "cpu"
    assert result["reached_target"] is None
    assert "epoch" in proc.stderr  # progress goes to stderr


def test_target_mse_stops_and_says_so(tmp_path, capsys):
    data = tmp_path / "d.csv"
    main(["data", "--out", str(data), "--points", "300", "--periods", "3"])
    code = main(["train", "--data", str(data), "--epochs", "50", "--target-mse", "100", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # Any sane model is within 100 at its first evaluation.
    first_evaluation = PRESETS["fast"].train.eval_every
    assert result["reached_target"] is True and result["epochs"] == first_evaluation


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "--hidden", "0"], "hidden_size"),
        (["train", "--lr", "-1"], "lr"),
        (["train", "--preset", "nope"], "invalid choice"),
        (["train", "--epochs", "many"], "invalid int"),
        (["train", "--data", "/no/such/file.csv"], "file"),
        (["train", "--target-mse", "0"], "target-mse"),
        (["train", "--device", "mps", "--epochs", "1"], "not available"),
        (["data"], "--out"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, words):
    proc = _run(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert words in lines[0]
    assert "Traceback" not in proc.stderr


def test_models_picks_and_orders_the_kinds(tmp_path, capsys):
    data = tmp_path / "d.csv"
    main(["data", "--out", str(data), "--points", "300", "--periods", "3"])
    args = ["train", "--data", str(data), "--epochs", "2", "--hidden", "4", "--json"]
    assert main([*args, "--models", "mlp"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert "mlp" in report and "gru" not in report
    assert main([*args, "--models", "mlp,gru"]) == 0
    both = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [k for k in both if k in ("gru", "mlp")] == ["mlp", "gru"]
    # The MLP's numbers do not depend on what trains beside it: it is built first both times.
    assert both["mlp"] == report["mlp"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["--models", "gru,lstm9"],
            "unknown model kind(s) lstm9; choose from gru, mlp, rnn, lstm, gru_d2l,",
        ),
        (["--models", "gru,gru"], "models must be distinct kinds"),
        (["--task", "poetry"], "argument --task: invalid choice: 'poetry'"),
    ],
)
def test_unknown_models_and_tasks_get_one_line_and_status_2(args, words):
    proc = _run("train", "--epochs", "1", *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], proc.stderr


def test_every_settings_flag_comes_from_its_declaration():
    from gru_core.__main__ import _parser
    from gru_core.config import settings

    train = next(
        a for a in _parser()._subparsers._group_actions[0].choices.items() if a[0] == "train"
    )[1]
    flags = {o: a for a in train._actions for o in a.option_strings}
    for s in settings().values():
        if s.flag is not None:
            assert flags[s.flag].help == s.help, s.key
            assert flags[s.flag].choices == s.choices, s.key
    assert "--hidden" in flags and "--device" in flags and "--models" in flags


def test_train_save_then_show_prints_the_same_json(tmp_path):
    data = tmp_path / "series.csv"
    assert _run("data", "--out", str(data), "--points", "300").returncode == 0
    bundle = tmp_path / "hidden 4, lr 0.01.zip"
    trained = _run(
        "train", "--data", str(data), "--epochs", "3", "--hidden", "4", "--lr", "0.01",
        "--save", str(bundle), "--json",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout.strip().splitlines()[-1])
    shown = _run("show", str(bundle), "--json")
    assert shown.returncode == 0, shown.stderr
    again = json.loads(shown.stdout.strip().splitlines()[-1])
    assert again == report  # the test metrics are computed again from the saved weights
    assert report["gru"]["test_rollout_mse"] > 0
    with zipfile.ZipFile(bundle) as zf:
        command = zf.read("command.txt").decode()
    assert "train" in command and "--hidden 4" in command and "--save" in command


def test_show_refuses_a_bundle_whose_weights_were_changed_in_one_line(tmp_path):
    bundle = tmp_path / "run.zip"
    assert _run("train", "--epochs", "2", "--hidden", "4", "--save", str(bundle)).returncode == 0
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for info in zin.infolist():
            content = zin.read(info)
            if info.filename == "config.json":
                config = json.loads(content)
                for model in config["spec"]["models"]:  # the MLP's saved weights: (32, 16)
                    model["mlp_hidden"] = [9]
                content = json.dumps(config).encode()
            zout.writestr(info.filename, content)
    proc = _run("show", str(tampered), "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "weights.safetensors" in proc.stderr


def test_train_many_kinds_matched_and_stacked(tmp_path, capsys):
    data = tmp_path / "d.csv"
    main(["data", "--out", str(data), "--points", "300", "--periods", "3"])
    args = ["train", "--data", str(data), "--epochs", "2", "--json", "--models", "mlp,rnn,lstm,gru"]
    assert main([*args, "--match-params", "--layers", "2", "--dropout", "0.1"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [k for k in report if k in ("mlp", "rnn", "lstm", "gru")] == [
        "mlp",
        "rnn",
        "lstm",
        "gru",
    ]
    fields = {"train_loss", "test_one_step_mse", "test_rollout_mse", "test_rollout_mae"}
    for name in ("mlp", "rnn", "lstm", "gru"):
        assert set(report[name]) == fields
        assert all(isinstance(v, float) for v in report[name].values()), name


def test_unknown_kind_names_every_valid_kind():
    proc = _run("train", "--epochs", "1", "--models", "mlp,transformer")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "python -m gru_core train: error: argument --models: unknown model kind(s) transformer;"
        " choose from gru, mlp, rnn, lstm, gru_d2l, gru_update_only, gru_reset_only"
    ]
