"""The Gates page's computations for every recurrent kind, checked against torch and by hand."""

import numpy as np
import pytest
import torch

from gru_core import cells
from gru_core.config import DataConfig, ModelConfig, TrainConfig
from gru_core.data import make_sine
from gru_core.job import TrainingJob
from gru_core.spec import spec_for
from gru_core.views import gates as gate_views

KINDS = tuple(cells.KINDS)


def _run(layers: int):
    series = make_sine(DataConfig(points=200))
    model = ModelConfig(models=(*KINDS, "mlp"), hidden_size=5, num_layers=layers)
    cfg = TrainConfig(epochs=2, seq_len=10, lr=0.01, device="cpu", eval_warmup=40)
    job = TrainingJob(spec_for(series, 0.8, model, cfg))
    job.start()
    assert job.join(120)
    snap = job.snapshot()
    assert snap.status == "finished", snap.message
    return snap


@pytest.fixture(scope="module")
def snaps():
    return {1: _run(1), 2: _run(2)}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("layers", "layer"), [(1, 0), (2, 0), (2, 1)])
def test_gate_view_is_the_cores_own_output(snaps, kind, layers, layer):
    snap = snaps[layers]
    view = gate_views.gate_view(snap, 100, 160, name=kind, layer=layer)
    assert view.kind == kind and list(view.values) == list(cells.KINDS[kind].gates)
    assert all(v.shape == (60, 5) for v in view.values.values())
    assert view.warmup == 40 and view.layer_note == (
        "" if layers == 1 else f"layer {layer + 1} of 2"
    )
    # h of the chosen layer equals torch's core run over warm-up + segment, layer by layer.
    model, core = snap.model(kind), snap.core(kind)
    x = model.scale_in(torch.as_tensor(snap.series[60:160], dtype=torch.float32)).view(1, -1, 1)
    with torch.no_grad():
        for k in range(layer + 1):
            single = cells.build(kind, x.shape[-1], 5)
            single.load_state_dict(_layer_weights(core, kind, k))
            x, _ = single(x)
    np.testing.assert_allclose(view.h, x[0, 40:].numpy(), atol=1e-5)


def _layer_weights(core, kind: str, k: int) -> dict:
    state = core.state_dict()
    if kind in ("rnn", "lstm", "gru"):
        return {n.replace(f"_l{k}", "_l0"): v for n, v in state.items() if n.endswith(f"_l{k}")}
    prefix = f"layers.{k}."
    return {"layers.0." + n[len(prefix) :]: v for n, v in state.items() if n.startswith(prefix)}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("layers", "layer"), [(1, 0), (2, 1)])
def test_equations_recompute_every_traced_value(snaps, kind, layers, layer):
    view = gate_views.gate_view(snaps[layers], 100, 130, name=kind, layer=layer)
    for position, unit in ((100, 0), (117, 3), (129, 4)):
        t = gate_views.equation_terms(view, position, unit)
        k = position - 100
        assert set(t.values) == set(view.values), kind
        for name, value in t.values.items():
            assert value == pytest.approx(float(view.values[name][k, unit]), abs=1e-5), name
        latex = gate_views.equation_latex(t)
        assert len(latex) == len(cells.KINDS[kind].equations)
        assert f"{t.h:.3f}" in latex[-1] and f"_{{{unit}}}" in latex[0]
    # Control: the numbers of another step do not match this one's trace.
    other = gate_views.equation_terms(view, 101, 0)
    assert other.h != pytest.approx(float(view.h[0, 0]), abs=1e-5)


def test_d2l_equations_put_the_reset_gate_before_the_matrix(snaps):
    view = gate_views.gate_view(snaps[1], 100, 110, name="gru_d2l")
    latex = gate_views.equation_latex(gate_views.equation_terms(view, 105, 1))
    assert r"(r \odot h_{t-1}) W_{hh}" in latex[2]
    torch_gru = gate_views.equation_latex(
        gate_views.equation_terms(gate_views.gate_view(snaps[1], 100, 110, name="gru"), 105, 1)
    )
    assert r"r \odot (W_{hn}h_{t-1} + b_{hn})" in torch_gru[2]


def test_summary_and_default_units_follow_the_kinds_keep_gate(snaps):
    lstm = gate_views.gate_view(snaps[1], 100, 160, name="lstm")
    summary = gate_views.unit_summary(lstm)
    means = [f"mean {g}" for g in ("i", "f", "o")]  # the LSTM's sigmoid gates
    assert list(summary.columns) == ["unit", *means, "memory (steps)", "activity"]
    np.testing.assert_allclose(summary["memory (steps)"], 1 / (1 - lstm.f.mean(axis=0)), rtol=1e-5)
    assert gate_views.default_units(lstm, 1) == [int(np.argmax(lstm.f.mean(axis=0)))]
    rnn = gate_views.gate_view(snaps[1], 100, 160, name="rnn")
    assert list(gate_views.unit_summary(rnn).columns) == ["unit", "activity"]
    assert gate_views.default_units(rnn, 1) == [int(np.argmax(rnn.h.std(axis=0)))]


def test_large_models_show_their_most_active_units_first(snaps):
    view = gate_views.gate_view(snaps[1], 100, 160, name="gru")
    spread = view.h.std(axis=0)
    assert gate_views.unit_order(view) == sorted(range(5), key=lambda u: -spread[u])
    assert gate_views.heatmap_units(view, limit=2) == gate_views.unit_order(view)[:2]
    assert gate_views.heatmap_units(view) == list(range(5))  # all fit: in their own order


def test_slope_spans_of_a_sine_turn_at_its_peaks():
    x = np.linspace(0, 2 * np.pi, 101)  # peak at index 25, trough at 75
    spans = gate_views.slope_spans(np.sin(x))
    assert [s[2] for s in spans] == ["rising", "falling", "rising"]
    assert spans[0][0] == 0 and spans[-1][1] == 100
    assert abs(spans[1][0] - 25) <= 1 and abs(spans[2][0] - 75) <= 1
    noisy = np.sin(x) + np.random.default_rng(0).normal(0, 0.02, 101)
    assert len(gate_views.slope_spans(noisy, smooth=9)) <= 5  # noise does not shred it


def test_every_kind_says_what_to_look_for():
    assert set(gate_views.LOOK_FOR) == set(cells.KINDS)
    assert all(line.endswith(".") for line in gate_views.LOOK_FOR.values())
