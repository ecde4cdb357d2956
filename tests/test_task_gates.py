"""Gates of the window, classify and text tasks, checked against the torch cores themselves."""

import dataclasses

import numpy as np
import pytest
import torch

from gru_core import gates
from gru_core.config import PRESETS, ModelConfig
from gru_core.job import TrainingJob
from gru_core.spec import RunSpec
from gru_core.tasks import make_task
from gru_core.views import task_gates

TINY = "".join(f"the cat, sat on mat {i % 7}.\nthe dog ran to log {i % 5}!\n" for i in range(60))


def _finished(spec: RunSpec):
    job = TrainingJob(spec)
    job.start()
    assert job.join(120)
    snap = job.snapshot()
    assert snap.status == "finished", snap.message
    return snap


def _spec(preset: str, models: tuple, layers: int = 1, options: dict | None = None, **train):
    p = PRESETS[preset]
    return RunSpec.from_preset(
        dataclasses.replace(p, options=p.options if options is None else options),
        model=ModelConfig(models=models, hidden_size=6, num_layers=layers),
        train=dataclasses.replace(p.train, device="cpu", epochs=2, **train),
    )


@pytest.fixture(scope="module")
def window():
    return _finished(_spec("window", ("gru", "lstm", "mlp"), layers=2))


@pytest.fixture(scope="module")
def text():
    options = {"corpus": "upload", "text": TINY, "prefix": "the "}
    spec = _spec(
        "seed003", ("gru", "gru_d2l"), layers=2, options=options, lr=1.0, batch_size=4, seq_len=16
    )
    return _finished(dataclasses.replace(spec, train=dataclasses.replace(spec.train, eval_every=1)))


@pytest.mark.parametrize(("name", "layer"), [("gru", 0), ("gru", 1), ("lstm", 1)])
def test_window_gates_are_the_cores_own_states_over_that_window(window, name, layer):
    assert window.recurrent() == ["gru", "lstm"]
    view = task_gates.window_gate_view(window, 250, name=name, layer=layer)
    task = make_task(window.spec, torch.device("cpu"))
    x = task.x[250]  # (30, 1): a test window (240 train)
    np.testing.assert_allclose(view.signal, x[:, 0].numpy(), rtol=1e-6)
    assert list(view.index) == list(range(30)) and view.warmup == 0
    model = window.model(name)
    with torch.no_grad():
        out, _ = model.rnn(model.scale_in(x)[None])  # (1, 30, 6): the top layer's h
        if layer == 1:
            np.testing.assert_allclose(view.h, out[0].numpy(), atol=1e-5)
        # the head reads the last state: the top layer's h after the window's last step
        np.testing.assert_allclose(model.features(x[None])[0].numpy(), out[0, -1], atol=1e-6)
    other = task_gates.window_gate_view(window, 10, name=name, layer=layer)
    assert not np.allclose(other.h, view.h, atol=1e-3)  # another window, other states


def test_window_gates_refuse_what_they_cannot_show(window, text):
    with pytest.raises(ValueError, match=r"window must be in \[0, 299\]"):
        task_gates.window_gate_view(window, 300)
    with pytest.raises(ValueError, match="no windows"):
        task_gates.window_gate_view(text, 0)
    with pytest.raises(ValueError, match="reads no text"):
        task_gates.text_activations(window, "abc")
    assert task_gates.window_shape(window) == (300, 240, 30)


@pytest.mark.parametrize(("name", "layer"), [("gru", 0), ("gru", 1), ("gru_d2l", 1)])
def test_text_activation_per_character_is_the_cores_h_there(text, name, layer):
    passage = task_gates.passage(text, 5, 120)
    assert len(passage) == 120 and passage == task_gates.held_out_text(text)[5:125]
    acts = task_gates.text_activations(text, passage, name=name, layer=layer)
    assert acts.h.shape == (120, 6) and acts.layer == layer and acts.text == passage
    lm = text.model(name).lm
    vocab = make_task(text.spec, torch.device("cpu")).vocab
    with torch.no_grad():
        x = lm.inputs(vocab.encode(passage))  # (120, vocab) one-hot
        traced = gates.trace(lm.core, x, None, layer=layer)["h"]  # (120, 6)
        np.testing.assert_allclose(acts.h, traced, atol=1e-5)
        np.testing.assert_allclose(acts.unit(3), traced[:, 3], atol=1e-5)
        if layer == 1:  # and the core itself: torch's forward over the whole passage
            out, _ = lm.core(x[None])
            np.testing.assert_allclose(acts.h, out[0].numpy(), atol=1e-5)
    shifted = task_gates.text_activations(text, passage[1:], name=name, layer=layer)
    assert not np.allclose(shifted.h, acts.h[1:], atol=1e-4)  # the state depends on history
    with pytest.raises(ValueError, match="outside"):
        acts.unit(6)


def test_line_positions_and_punctuation_worked_by_hand():
    positions = task_gates.line_positions("ab\ncd\n\ne")
    np.testing.assert_array_equal(positions, [0, 1, 2, 0, 1, 2, 0, 0])
    np.testing.assert_array_equal(task_gates.is_punctuation("床，前。a!b"), [0, 1, 0, 1, 0, 1, 0])


def test_correlations_match_numpy_and_constant_units_score_zero():
    rng = np.random.default_rng(0)
    values = rng.normal(size=50)
    h = np.column_stack([rng.normal(size=50), values * 2 + 1, np.full(50, 0.3), -values])
    r = task_gates.correlations(values, h)
    expected = [np.corrcoef(values, h[:, 0])[0, 1], 1.0, 0.0, -1.0]
    np.testing.assert_allclose(r, expected, atol=1e-12)


def test_ranking_finds_the_unit_that_tracks_each_property():
    passage = "床前明月光，\n疑是地上霜。\n举头望明月，\n低头思故乡。\n"
    rng = np.random.default_rng(1)
    h = rng.uniform(-0.2, 0.2, size=(len(passage), 4))
    h[:, 2] = np.tanh(task_gates.line_positions(passage) / 5)  # a line-position unit
    h[:, 0] = -task_gates.is_punctuation(passage) * 0.8  # fires (negatively) at ， 。
    acts = task_gates.TextActivations(passage, h, "gru", 0)
    by_line = task_gates.unit_ranking(acts, "line")
    assert by_line["unit"].iloc[0] == 2 and by_line["correlation"].iloc[0] > 0.95
    by_punct = task_gates.unit_ranking(acts, "punctuation")
    assert by_punct["unit"].iloc[0] == 0 and by_punct["correlation"].iloc[0] < -0.6
    assert sorted(by_punct["unit"]) == [0, 1, 2, 3]
    assert list(np.abs(by_punct["correlation"])) == sorted(
        np.abs(by_punct["correlation"]), reverse=True
    )
    with pytest.raises(ValueError, match="choose one of line, punctuation"):
        task_gates.unit_ranking(acts, "vowels")


def test_activation_html_colours_each_character_and_escapes_it():
    out = task_gates.activation_html("a<\nb", np.array([0.5, -1.0, 0.0, 2.0]))
    assert out.count('class="unit-char"') == 4
    assert "&lt;" in out and "<\n" not in out and "↵</span><br>" in out
    assert 'title="+0.500" style="background:rgba(214, 39, 40, 0.50)"' in out
    assert 'title="-1.000" style="background:rgba(31, 119, 180, 1.00)"' in out
    assert "rgba(214, 39, 40, 1.00)" in out  # clipped at 1
    with pytest.raises(ValueError, match="3 values for 4 characters"):
        task_gates.activation_html("abcd", np.zeros(3))
