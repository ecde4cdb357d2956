"""The tutorial's character-level GRU, written plainly the way d2l writes it.

The reference `benchmarks/text.py` measures gru_core.text against, and the oracle the
tests check gru_core.text's batches with: d2l's from-scratch GRU (its own parameter
tensors, one-hot inputs, a Python loop over time steps), its two minibatch iterators
drawing from Python's global `random`, its `grad_clipping` and its `sgd` with batch size
1 on the mean loss, the state reset at each epoch and carried (detached) between
sequential batches. Deliberately not optimised: it is what "the tutorial's algorithm,
done plainly" costs. Names and layout are d2l's.
"""

from __future__ import annotations

import math
import random

import torch
from torch import nn
from torch.nn import functional as F


def seq_data_iter_random(corpus, batch_size, num_steps):
    """d2l's random sampling, as d2l writes it."""
    corpus = corpus[random.randint(0, num_steps - 1) :]
    num_subseqs = (len(corpus) - 1) // num_steps
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    random.shuffle(initial_indices)

    def data(pos):
        return corpus[pos : pos + num_steps]

    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        initial_indices_per_batch = initial_indices[i : i + batch_size]
        X = [data(j) for j in initial_indices_per_batch]
        Y = [data(j + 1) for j in initial_indices_per_batch]
        yield torch.tensor(X), torch.tensor(Y)


def seq_data_iter_sequential(corpus, batch_size, num_steps):
    """d2l's sequential partitioning, as d2l writes it."""
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset : offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1 : offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i : i + num_steps]
        Y = Ys[:, i : i + num_steps]
        yield X, Y


def get_params(vocab_size, num_hiddens):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape) * 0.01

    def three():
        return (normal((num_inputs, num_hiddens)), normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens))  # fmt: skip

    W_xz, W_hz, b_z = three()  # update gate
    W_xr, W_hr, b_r = three()  # reset gate
    W_xh, W_hh, b_h = three()  # candidate state
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs)
    params = [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_gru_state(batch_size, num_hiddens):
    return (torch.zeros((batch_size, num_hiddens)),)


def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        Y = H @ W_hq + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


class RNNModelScratch:
    """d2l's from-scratch recurrent model: parameters, one-hot inputs, a forward function."""

    def __init__(self, vocab_size, num_hiddens):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens)

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return gru(X, state, self.params)

    def begin_state(self, batch_size):
        return init_gru_state(batch_size, self.num_hiddens)


def grad_clipping(params, theta):
    norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def train_epoch(net, corpus, batch_size, num_steps, lr, theta, use_random_iter):
    """d2l's train_epoch_ch8 for the from-scratch model; returns (perplexity, characters)."""
    loss = nn.CrossEntropyLoss()
    data_iter = seq_data_iter_random if use_random_iter else seq_data_iter_sequential
    state, total, n = None, 0.0, 0
    for X, Y in data_iter(corpus, batch_size, num_steps):
        if state is None or use_random_iter:
            state = net.begin_state(batch_size=X.shape[0])
        else:
            for s in state:
                s.detach_()
        y = Y.T.reshape(-1)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()  # noqa: E741 (d2l's name)
        l.backward()
        grad_clipping(net.params, theta)
        sgd(net.params, lr, batch_size=1)  # the loss is a mean already
        total += l.item() * y.numel()
        n += y.numel()
    return math.exp(total / n), n
