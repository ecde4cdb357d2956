import numpy as np
import pytest
import torch
from torch import nn

from gru_core import cell_kernels, cells, kernels

D2L = ("gru_d2l", "gru_update_only", "gru_reset_only")
STEPS = {
    "rnn": cell_kernels.RNNTrainStep,
    "lstm": cell_kernels.LSTMTrainStep,
    **dict.fromkeys(D2L, cell_kernels.D2LGRUTrainStep),
}
ALL = {**STEPS, "gru": kernels.GRUTrainStep}


def _model(kind: str, hidden: int = 6, dtype=torch.float64, seed: int = 0, **adam):
    torch.manual_seed(seed)
    core, head = cells.build(kind, 1, hidden).to(dtype), nn.Linear(hidden, 1).to(dtype)
    with torch.no_grad():
        for p in core.parameters():
            # larger weights: saturated units, where mistakes show (d2l's start at 0.01)
            p.normal_() if kind in D2L else p.mul_(3)
    opt = torch.optim.Adam([*core.parameters(), *head.parameters()], lr=1e-2, **adam)
    return core, head, opt


def _state(kind: str, batch: int, hidden: int, dtype, seed: int = 7):
    g = torch.Generator().manual_seed(seed)
    h0, c0 = torch.randn(2, 1, batch, hidden, dtype=dtype, generator=g)
    return (h0, c0) if kind == "lstm" else h0


def _numpy_state(state):
    if state is None:
        return None
    return tuple(s[0].numpy() for s in state) if isinstance(state, tuple) else state[0].numpy()


def _data(batch: int, steps: int, dtype=torch.float64, seed: int = 3):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, batch, steps, 1, dtype=dtype, generator=g)


@pytest.mark.parametrize("kind", STEPS)
@pytest.mark.parametrize("batch,steps,carried", [(1, 20, False), (3, 7, True), (2, 1, True)])
def test_gradients_and_state_match_autograd(kind, batch, steps, carried):
    core, head, opt = _model(kind)
    kernel = STEPS[kind](core, head, opt)
    x, y = _data(batch, steps)
    state = _state(kind, batch, 6, torch.float64) if carried else None
    out, final = core(x, state)
    ref_loss = nn.functional.mse_loss(head(out), y)
    ref = torch.autograd.grad(ref_loss, kernel.parameters)
    loss, mine = kernel.loss_and_grads(x.numpy(), y.numpy(), _numpy_state(state))
    assert loss == pytest.approx(ref_loss.item(), rel=1e-12)
    pairs = zip(mine, final, strict=True) if kind == "lstm" else [(mine, final)]
    for a, b in pairs:
        np.testing.assert_allclose(a, b[0].detach().numpy(), atol=1e-12, rtol=0)
    for grad, theirs in zip(kernel.adam.grads, ref, strict=True):
        assert grad.shape == theirs.shape
        np.testing.assert_allclose(grad, theirs.numpy(), atol=1e-10, rtol=0)


@pytest.mark.parametrize("kind", STEPS)
def test_control_other_targets_give_other_gradients(kind):
    core, head, opt = _model(kind)
    kernel = STEPS[kind](core, head, opt)
    x, y = _data(2, 9)
    ref = torch.autograd.grad(nn.functional.mse_loss(head(core(x)[0]), y), kernel.parameters)
    kernel.loss_and_grads(x.numpy(), (y + 0.1).numpy(), None)
    assert not np.allclose(kernel.adam.grads[1], ref[1].numpy(), atol=1e-6)


def _train_both(kind: str, dtype, rounds: int, clip_grad: float = 0.0):
    """The kernel and torch (autograd + torch.optim.Adam) from the same start, chunk after
    chunk with the state carried: their losses and final parameters."""
    mine, theirs = _model(kind, 8, dtype), _model(kind, 8, dtype)
    kernel = STEPS[kind](*mine, clip_grad=clip_grad)
    core, head, opt = theirs
    state = ref_state = None
    losses, ref_losses = [], []
    for r in range(rounds):
        x, y = _data(2, 15, dtype, seed=r)
        loss, state = kernel(x.numpy(), y.numpy(), state)
        out, ref_state = core(x, ref_state)
        ref_loss = nn.functional.mse_loss(head(out), y)
        opt.zero_grad()
        ref_loss.backward()
        if clip_grad:
            nn.utils.clip_grad_norm_([*core.parameters(), *head.parameters()], clip_grad)
        opt.step()
        ref_state = tuple(s.detach() for s in ref_state) if kind == "lstm" else ref_state.detach()
        losses.append(loss)
        ref_losses.append(ref_loss.item())
    params = [*mine[0].parameters(), *mine[1].parameters()]
    return losses, ref_losses, params, [*core.parameters(), *head.parameters()]


@pytest.mark.parametrize("kind", STEPS)
@pytest.mark.parametrize("clip_grad", [0.0, 0.05])
def test_training_matches_torch_in_float64(kind, clip_grad):
    losses, ref_losses, params, ref_params = _train_both(kind, torch.float64, 8, clip_grad)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-10)
    assert len(set(losses)) == len(losses)  # it trains: every chunk's loss differs
    for a, b in zip(params, ref_params, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
    start = list(_model(kind, 8)[0].parameters())[1]  # W_hh (torch), W_h of the first gate (d2l)
    assert not torch.allclose(params[1], start, atol=1e-3)  # the weights did move


@pytest.mark.parametrize("kind", STEPS)
def test_training_matches_torch_in_float32(kind):
    """float32: the two sum in other orders, each product rounding at about 6e-8 relative,
    and Adam divides by sqrt(v), so a rounding carries into the step. Measured after 8
    steps: at most 1.2e-7 apart (one float32 ulp of a weight near 1) and losses 3e-7
    relative; the bounds allow 8 ulps, far below one Adam step (about lr = 1e-2). The d2l
    cells' weights, drawn N(0, 1) here, reach 2-4, where an ulp is 2.4e-7: measured at most
    3.6e-7 apart."""
    losses, ref_losses, params, ref_params = _train_both(kind, torch.float32, 8)
    np.testing.assert_allclose(losses, ref_losses, rtol=2e-6)
    for a, b in zip(params, ref_params, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


def test_apply_only_where_they_should():
    core, head, opt = _model("rnn", dtype=torch.float32)
    assert cell_kernels.RNNTrainStep.applies(core, head, opt)
    assert not cell_kernels.LSTMTrainStep.applies(core, head, opt)
    lstm, lstm_head, lstm_opt = _model("lstm", dtype=torch.float32)
    assert cell_kernels.LSTMTrainStep.applies(lstm, lstm_head, lstm_opt)
    params = [*core.parameters(), *head.parameters()]
    assert not cell_kernels.RNNTrainStep.applies(core, head, torch.optim.SGD(params, lr=0.1))
    others = [
        nn.RNN(1, 6, nonlinearity="relu", batch_first=True),
        nn.RNN(1, 6, num_layers=2, batch_first=True),
        nn.RNN(1, 6),  # not batch_first
        nn.GRU(1, 6, batch_first=True),
    ]
    for other in others:
        opt = torch.optim.Adam([*other.parameters(), *head.parameters()])
        assert not cell_kernels.RNNTrainStep.applies(other, head, opt)
    projected = nn.LSTM(1, 6, proj_size=3, batch_first=True)
    three = nn.Linear(3, 1)
    opt = torch.optim.Adam([*projected.parameters(), *three.parameters()])
    assert not cell_kernels.LSTMTrainStep.applies(projected, three, opt)


# -- forecasts fed back --------------------------------------------------------------------------


def _torch_closed_loop(core, head, y0, state, horizon):
    y, preds = y0[:, None, None], [y0]
    with torch.no_grad():
        for _ in range(horizon - 1):
            out, state = core(y, state)
            y = head(out)
            preds.append(y[:, 0, 0])
    return torch.stack(preds, 1).numpy()


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("dtype,atol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_closed_loop_matches_step_by_step_torch(kind, dtype, atol):
    core, head, _ = _model(kind, 8, dtype)
    state = _state(kind, 3, 8, dtype)
    y0 = torch.randn(3, dtype=dtype)
    preds = cell_kernels.closed_loop(core, head, y0.numpy(), _numpy_state(state), 25)
    expected = _torch_closed_loop(core, head, y0, state, 25)
    assert preds.shape == (3, 25) and preds.dtype == expected.dtype
    other = _torch_closed_loop(*_model(kind, 8, dtype, seed=1)[:2], y0, state, 25)
    assert not np.allclose(preds, other, atol=1e-3)  # control
    np.testing.assert_allclose(preds, expected, atol=atol, rtol=0)


@pytest.mark.parametrize("kind", ALL)
def test_forecasts_teacher_forced_and_free(kind):
    core, head, _ = _model(kind, 8)
    state = _state(kind, 2, 8, torch.float64)
    x = torch.randn(2, 30, dtype=torch.float64)
    one_step, free = cell_kernels.forecasts(core, head, x.numpy(), _numpy_state(state))
    with torch.no_grad():
        expected = head(core(x[..., None], state)[0])[..., 0].numpy()
        after_first = core(x[:, :1, None], state)[1]
    np.testing.assert_allclose(one_step, expected, atol=1e-12, rtol=0)
    # free reads x[:, 0] from the state, then feeds back its own outputs
    first = torch.from_numpy(expected[:, 0])
    free_expected = _torch_closed_loop(core, head, first, after_first, 30)
    np.testing.assert_allclose(free, free_expected, atol=1e-12, rtol=0)
    assert not np.allclose(one_step[:, 5:], free[:, 5:], atol=1e-3)


def test_forecasts_apply_only_where_they_should():
    assert cell_kernels.applies_to_forecasts(nn.RNN(1, 8, batch_first=True))
    assert cell_kernels.applies_to_forecasts(nn.LSTM(1, 8, batch_first=True))
    assert cell_kernels.applies_to_forecasts(nn.GRU(1, 8, batch_first=True))
    assert not cell_kernels.applies_to_forecasts(nn.LSTM(1, 8, num_layers=2, batch_first=True))
    assert not cell_kernels.applies_to_forecasts(
        nn.RNN(1, 8, nonlinearity="relu", batch_first=True)
    )
    assert not cell_kernels.applies_to_forecasts(nn.RNN(2, 8, batch_first=True))


@pytest.mark.parametrize("kind", ALL)
def test_train_step_for_picks_the_kernel_of_each_kind(kind):
    core, head, opt = _model(kind, dtype=torch.float32)
    assert type(cell_kernels.train_step_for(core, head, opt)) is ALL[kind]
    for kernel in set(ALL.values()):
        assert kernel.applies(core, head, opt) == (kernel is ALL[kind])
    two = cells.build(kind, 1, 6, num_layers=2)
    opt = torch.optim.Adam([*two.parameters(), *head.parameters()])
    assert cell_kernels.train_step_for(two, head, opt) is None


def test_d2l_kernel_applies_only_to_one_layer_d2l_cores_reading_one_value():
    head = nn.Linear(6, 1)
    step = cell_kernels.D2LGRUTrainStep
    for gates in (("r", "z"), ("z",), ("r",)):
        core = cells.D2LGRU(1, 6, gates=gates)
        assert step.applies(core, head, torch.optim.Adam([*core.parameters(), *head.parameters()]))
        assert cell_kernels.applies_to_forecasts(core)
    others = [cells.D2LGRU(1, 6, num_layers=2), cells.D2LGRU(2, 6), nn.GRU(1, 6, batch_first=True)]
    for other in others:
        assert not step.applies(
            other, head, torch.optim.Adam([*other.parameters(), *head.parameters()])
        )
    assert not cell_kernels.applies_to_forecasts(others[0])
    assert not cell_kernels.applies_to_forecasts(others[1])
    core = cells.D2LGRU(1, 6)
    params = [*core.parameters(), *head.parameters()]
    assert not step.applies(core, head, torch.optim.SGD(params, lr=0.1))
    assert not step.applies(core, head, torch.optim.Adam(params[::-1]))  # another order
