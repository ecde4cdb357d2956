"""Links: a query's settings read back, bad values named, and a link's query written."""

from gru_core import links
from gru_core.config import PRESETS, DataConfig, data_params, settings
from gru_core.views.train import preset_settings


def test_parameter_names_are_the_command_line_flags():
    names = links.train_params()
    for key, s in settings().items():
        if s.flag is not None:  # --seq-len -> seq_len, --match-params -> match_params
            assert "--" + names[key].replace("_", "-") == s.flag
    assert names["seq_len"] == "seq_len" and names["hidden"] == "hidden"
    # the data seed must not be the training seed's parameter
    assert data_params()["seed"] == "data_seed"
    assert not set(data_params().values()) & set(names.values())


def test_a_query_gives_settings_and_names_the_bad_ones():
    query = {
        "hidden": ["4"],
        "lr": ["0.01"],
        "seq_len": ["abc"],  # not a number
        "epochs": ["0"],  # out of range
        "models": ["gru", "RNN"],  # kinds and the labels the widget writes
        "standardize": ["true"],
        "mode": ["sideways"],
        "points": ["300"],
        "data_seed": ["7"],
        "noise": ["-1"],
        "ws": ["private"],  # no setting: not looked at
    }
    train, data, bad = links.from_query(query)
    assert train == {
        "hidden": 4,
        "lr": 0.01,
        "models": ["gru", "rnn"],
        "standardize": True,
    }
    assert data == {"points": 300, "seed": 7}
    assert sorted(bad) == ["epochs", "mode", "noise", "seq_len"]


def test_link_query_holds_only_what_differs_and_reads_back():
    defaults = preset_settings("fast")
    chosen = {**defaults, "hidden": 4, "lr": 0.0005, "models": ["gru", "lstm"], "seed": 3}
    data = {"points": 500, "periods": 5.0, "noise": 0.1, "seed": 9, "train_fraction": 0.8}
    pairs = links.link_query(chosen, defaults, data, {"points": 1000, "seed": 42})
    assert ("hidden", "4") in pairs and ("lr", "0.0005") in pairs
    assert ("models", "GRU") in pairs and ("models", "LSTM") in pairs
    assert ("data_seed", "9") in pairs and ("seed", "3") in pairs
    assert not any(name == "epochs" for name, _ in pairs)  # the preset's own value
    query: dict[str, list[str]] = {}
    for name, text in pairs:
        query.setdefault(name, []).append(text)
    train, read, bad = links.from_query(query)
    assert bad == []
    assert train == {"hidden": 4, "lr": 0.0005, "models": ["gru", "lstm"], "seed": 3}
    assert read["points"] == 500 and read["seed"] == 9
    assert DataConfig(**{**read, "periods": 5.0}).points == 500


def test_the_lr_text_is_what_a_person_types():
    assert [links.lr_text(v) for v in (0.01, 5e-4, 1e-6, 100.0)] == [
        "0.01",
        "0.0005",
        "1e-06",
        "100",
    ]
    lr = settings()["lr"]
    assert links.parse_setting(lr, ["1e-2"]) == 0.01
    for bad in ("nan", "inf", str(PRESETS["seed003"].train.lr * 100)):  # the last: too high
        assert links.from_query({"lr": [bad]})[2] == ["lr"]


def test_a_device_this_machine_lacks_is_a_bad_value():
    query = {"device": ["cuda"]}
    assert links.from_query(query)[0] == {"device": "cuda"}  # a device the setting knows
    assert links.from_query(query, {"device": ["auto", "cpu"]})[2] == ["device"]  # not here
