import numpy as np
import pytest
import torch
from torch import nn

from gru_core import kernels
from gru_core.models import GRUForecaster, MLPForecaster


def _gru(hidden: int, dtype=torch.float64, seed: int = 0) -> nn.GRU:
    torch.manual_seed(seed)
    gru = nn.GRU(1, hidden, batch_first=True).to(dtype)
    with torch.no_grad():
        for p in gru.parameters():
            p.mul_(3)
    return gru


@pytest.mark.parametrize("batch,steps,hidden", [(1, 20, 16), (4, 7, 5), (3, 1, 9)])
def test_forward_and_gradients_match_nn_gru(batch, steps, hidden):
    gru = _gru(hidden)
    x = torch.randn(batch, steps, 1, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(1, batch, hidden, dtype=torch.float64, requires_grad=True)
    _assert_matches(gru(x, h0), kernels.gru(gru, x, h0), [x, h0, *gru.parameters()])


def _assert_matches(reference, mine, inputs) -> None:
    """Outputs and final states equal to 1e-12, and the gradients of a random weighting of
    both with respect to `inputs` to 1e-10."""
    (ref_out, ref_h), (out, h) = reference, mine
    assert torch.allclose(out, ref_out, atol=1e-12, rtol=0)
    assert torch.allclose(h, ref_h, atol=1e-12, rtol=0)
    w_out, w_h = torch.randn_like(out), torch.randn_like(h)
    ref = torch.autograd.grad((ref_out * w_out).sum() + (ref_h * w_h).sum(), inputs)
    grads = torch.autograd.grad((out * w_out).sum() + (h * w_h).sum(), inputs)
    for a, b in zip(grads, ref, strict=True):
        assert torch.allclose(a, b, atol=1e-10, rtol=0)


def test_control_other_weights_differ():
    x = torch.randn(2, 10, 1, dtype=torch.float64)
    a, _ = kernels.gru(_gru(6, seed=0), x, None)
    b, _ = _gru(6, seed=1)(x)
    assert not torch.allclose(a, b, atol=1e-6)


def test_float32_close_to_nn_gru():
    gru = _gru(16, torch.float32)
    x = torch.randn(1, 50, 1)
    with torch.no_grad():
        assert torch.allclose(kernels.gru(gru, x, None)[0], gru(x)[0], atol=1e-5)


@pytest.mark.parametrize("layers,dropout", [(2, 0.0), (3, 0.0), (2, 0.4), (3, 0.25)])
def test_a_stack_matches_nn_gru_dropout_draws_included(layers, dropout):
    torch.manual_seed(layers)
    gru = nn.GRU(1, 7, num_layers=layers, dropout=dropout, batch_first=True).double()
    x = torch.randn(3, 11, 1, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layers, 3, 7, dtype=torch.float64, requires_grad=True)
    torch.manual_seed(99)  # the same draws for the dropout masks between layers
    reference = gru(x, h0)
    torch.manual_seed(99)
    _assert_matches(reference, kernels.gru(gru, x, h0), [x, h0, *gru.parameters()])
    ref_out = reference[0]
    if dropout:  # control: other draws give other outputs, so the draws above were torch's
        torch.manual_seed(100)
        assert not torch.allclose(kernels.gru(gru, x, h0)[0], ref_out, atol=1e-6)
    gru.eval()  # no dropout outside training, without a graph too
    with torch.no_grad():
        assert torch.allclose(kernels.gru(gru, x, h0)[0], gru(x, h0)[0], atol=1e-12, rtol=0)


def test_applies_only_where_it_should():
    x = torch.randn(1, 3, 1)
    assert kernels.applies(nn.GRU(1, 16, batch_first=True), x)
    assert kernels.applies(nn.GRU(1, 16, num_layers=2, batch_first=True), x)  # layer by layer
    assert not kernels.applies(nn.GRU(1, 16), x)  # not batch_first
    assert not kernels.applies(nn.GRU(1, kernels.MAX_HIDDEN + 1, batch_first=True), x)


def test_closed_loops_match_step_by_step_torch():
    torch.manual_seed(0)
    gru, head = nn.GRU(1, 8, batch_first=True), nn.Linear(8, 1)
    h = torch.randn(2, 8)
    y0 = torch.randn(2)
    preds = kernels.gru_closed_loop(gru, head, y0.numpy(), h.numpy(), 15)
    with torch.no_grad():
        y, state, expected = y0[:, None, None], h[None], [y0.numpy()]
        for _ in range(14):
            out, state = gru(y, state)
            y = head(out)
            expected.append(y[:, 0, 0].numpy())
    np.testing.assert_allclose(preds, np.stack(expected, 1), atol=1e-5)


# -- whole training steps ----------------------------------------------------------------


def _mse_grads(module_out, y, params):
    loss = nn.functional.mse_loss(module_out, y)
    return loss.item(), torch.autograd.grad(loss, params)


def _gru_step(hidden=6, dtype=torch.float64, seed=0, **adam):
    gru, head = _gru(hidden, dtype, seed), nn.Linear(hidden, 1).to(dtype)
    opt = torch.optim.Adam([*gru.parameters(), *head.parameters()], lr=1e-2, **adam)
    return gru, head, opt


@pytest.mark.parametrize("batch,steps,carried", [(1, 20, False), (3, 7, True), (2, 1, True)])
def test_gru_train_step_gradients_match_torch(batch, steps, carried):
    gru, head, opt = _gru_step()
    kernel = kernels.GRUTrainStep(gru, head, opt)
    x = torch.randn(batch, steps, 1, dtype=torch.float64)
    y = torch.randn(batch, steps, 1, dtype=torch.float64)
    h0 = torch.randn(1, batch, 6, dtype=torch.float64) if carried else None
    out, h = gru(x, h0)
    ref_loss, ref = _mse_grads(head(out), y, kernel.parameters)
    loss, h_last = kernel.loss_and_grads(
        x.numpy(), y.numpy(), None if h0 is None else h0[0].numpy()
    )
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(h_last, h[0].detach().numpy(), atol=1e-12, rtol=0)
    for mine, theirs in zip(kernel.adam.grads, ref, strict=True):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs.numpy(), atol=1e-10, rtol=0)


def test_gru_train_step_control_other_targets_give_other_gradients():
    gru, head, opt = _gru_step()
    kernel = kernels.GRUTrainStep(gru, head, opt)
    x, y = torch.randn(2, 9, 1, dtype=torch.float64), torch.randn(2, 9, 1, dtype=torch.float64)
    _, ref = _mse_grads(head(gru(x)[0]), y, kernel.parameters)
    kernel.loss_and_grads(x.numpy(), (y + 0.1).numpy(), None)
    assert not np.allclose(kernel.adam.grads[1], ref[1].numpy(), atol=1e-6)


@pytest.mark.parametrize("window", [1, 3])
@pytest.mark.parametrize("carried", [False, True])
def test_mlp_train_step_gradients_and_state_match_the_forecaster(window, carried):
    torch.manual_seed(1)
    model = MLPForecaster((8, 5), window).double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    kernel = kernels.MLPTrainStep(model.net, window, opt)
    x, y = torch.randn(2, 11, 1, dtype=torch.float64), torch.randn(2, 11, 1, dtype=torch.float64)
    state = torch.randn(2, window - 1, 1, dtype=torch.float64) if carried and window > 1 else None
    pred, ref_state = model(x, state)
    ref_loss, ref = _mse_grads(pred, y, kernel.parameters)
    loss, next_state = kernel.loss_and_grads(
        x.numpy(), y.numpy(), None if state is None else state.numpy()
    )
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    if window == 1:
        assert next_state is None and ref_state is None
    else:
        np.testing.assert_array_equal(next_state, ref_state.numpy())
    for mine, theirs in zip(kernel.adam.grads, ref, strict=True):
        np.testing.assert_allclose(mine, theirs.numpy(), atol=1e-12, rtol=0)


def _random_grads(params, rng):
    return [rng.standard_normal(p.shape) * 10.0 ** rng.integers(-4, 1) for p in params]


@pytest.mark.parametrize("fused", [False, True])
def test_flat_adam_matches_torch_adam(fused):
    """Same updates as torch.optim.Adam over steps with a changing rate, in float32."""
    rng = np.random.default_rng(0)
    mine = _gru_step(dtype=torch.float32)
    theirs = _gru_step(dtype=torch.float32, fused=fused)
    params = [*mine[0].parameters(), *mine[1].parameters()]
    ref_params = [*theirs[0].parameters(), *theirs[1].parameters()]
    adam = kernels.FlatAdam(mine[2], params)
    for step in range(12):
        lr = 1e-2 * (0.9**step)
        for group in (mine[2].param_groups[0], theirs[2].param_groups[0]):
            group["lr"] = lr
        grads = _random_grads(params, rng)
        for p, g in zip(ref_params, grads, strict=True):
            p.grad = torch.as_tensor(g, dtype=torch.float32)
        theirs[2].step()
        for view, g in zip(adam.grads, grads, strict=True):
            view[:] = g
        adam.step()
    for a, b in zip(params, ref_params, strict=True):
        torch.testing.assert_close(a, b, atol=2e-6, rtol=1e-5)
    assert not torch.equal(params[0], _gru(6, torch.float32).weight_ih_l0)  # it did move


def test_flat_adam_shares_the_optimizers_state():
    """torch's optimizer can take the next step from where the numpy one left off."""
    rng = np.random.default_rng(1)
    gru, head, opt = _gru_step(dtype=torch.float32, fused=True)
    twin_gru, twin_head, twin_opt = _gru_step(dtype=torch.float32, fused=True)
    params = [*gru.parameters(), *head.parameters()]
    twin = [*twin_gru.parameters(), *twin_head.parameters()]
    adam = kernels.FlatAdam(opt, params)
    all_grads = [_random_grads(params, rng) for _ in range(4)]
    for grads in all_grads[:3]:
        for view, g in zip(adam.grads, grads, strict=True):
            view[:] = g
        adam.step()
    for grads in all_grads:
        for p, g in zip(twin, grads, strict=True):
            p.grad = torch.as_tensor(g, dtype=torch.float32)
        twin_opt.step()
    assert opt.state[params[0]]["step"].item() == 3
    for p, g in zip(params, all_grads[3], strict=True):
        p.grad = torch.as_tensor(g, dtype=torch.float32)
    opt.step()  # torch's own fused step on the shared state
    assert adam.steps[0] == 4
    for a, b in zip(params, twin, strict=True):
        torch.testing.assert_close(a, b, atol=2e-6, rtol=1e-5)


def test_flat_adam_clips_like_clip_grad_norm():
    rng = np.random.default_rng(2)
    gru, head, opt = _gru_step()
    params = [*gru.parameters(), *head.parameters()]
    adam = kernels.FlatAdam(opt, params)
    grads = _random_grads(params, rng)
    for p, view, g in zip(params, adam.grads, grads, strict=True):
        p.grad, view[:] = torch.as_tensor(g), g
    nn.utils.clip_grad_norm_(params, 0.5)
    adam.clip(0.5)
    for p, view in zip(params, adam.grads, strict=True):
        np.testing.assert_allclose(view, p.grad.numpy(), rtol=1e-12)
    assert adam.grad_norm() == pytest.approx(0.5, rel=1e-5)


def test_train_steps_apply_only_where_they_should():
    gru, head, opt = _gru_step(dtype=torch.float32)
    assert kernels.GRUTrainStep.applies(gru, head, opt)
    two_layers = nn.GRU(1, 6, num_layers=2, batch_first=True)
    assert not kernels.GRUTrainStep.applies(
        two_layers, head, torch.optim.Adam([*two_layers.parameters(), *head.parameters()])
    )
    params = [*gru.parameters(), *head.parameters()]
    assert not kernels.GRUTrainStep.applies(gru, head, torch.optim.SGD(params, lr=0.1))
    assert not kernels.GRUTrainStep.applies(gru, head, torch.optim.Adam(params, amsgrad=True))
    assert not kernels.GRUTrainStep.applies(gru, head, torch.optim.Adam(params, weight_decay=1))
    assert not kernels.GRUTrainStep.applies(gru, head, torch.optim.Adam(params[:-1]))
    mlp = MLPForecaster((8,), 2)
    assert kernels.MLPTrainStep.applies(mlp.net, 2, torch.optim.Adam(mlp.parameters()))
    odd = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    assert not kernels.MLPTrainStep.applies(odd, 2, torch.optim.Adam(odd.parameters()))


# -- forecasts -----------------------------------------------------------------------------


def test_gru_forecasts_match_one_step_and_closed_loop():
    torch.manual_seed(3)
    model = GRUForecaster(8)
    model.set_scale(0.5, 2.0)
    x = torch.randn(2, 30, 1)
    state = torch.randn(1, 2, 8)
    with torch.no_grad():
        one_step, free = model.forecasts(x, state)
        model.fast_kernel = False  # torch's nn.GRU, step by step
        ref_one, ref_free = model.forecasts(x, state)
    torch.testing.assert_close(one_step, ref_one, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(free, ref_free, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(one_step, free, atol=1e-3)  # the two differ after step 0
    torch.testing.assert_close(one_step[:, 0], free[:, 0])


@pytest.mark.parametrize("window", [1, 4])
def test_mlp_closed_loop_matches_step_by_step_torch(window):
    torch.manual_seed(4)
    model = MLPForecaster((8, 5), window)
    start = torch.randn(3, window)
    preds = kernels.mlp_closed_loop(model.net, start.numpy(), 12)
    expected, w = [], start.clone()
    with torch.no_grad():
        for _ in range(12):
            y = model.net(w)  # (3, 1)
            expected.append(y[:, 0])
            w = torch.cat([w[:, 1:], y], dim=1)
    np.testing.assert_allclose(preds, torch.stack(expected, 1).numpy(), atol=1e-6)


def test_limit_blas_threads_sets_numpys_openblas():
    import ctypes

    if not kernels.limit_blas_threads(1):
        pytest.skip("no OpenBLAS found in this process (not Linux, or numpy without OpenBLAS)")
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
    getters = [
        getattr(ctypes.CDLL(path), name, None)
        for path in paths
        for name in (
            "scipy_openblas_get_num_threads64_",
            "scipy_openblas_get_num_threads",
            "openblas_get_num_threads64_",
            "openblas_get_num_threads",
        )
    ]
    getter = next((g for g in getters if g is not None), None)
    if getter is None:
        pytest.skip("this OpenBLAS exports no thread-count getter to check against")
    assert getter() == 1
