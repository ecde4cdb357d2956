"""The text task: a character-level language model, trained and judged as d2l does it.

Wraps `gru_core.text`: a corpus shipped with the app or a user's own text (checked by
`text.read_upload` before it gets here), its vocabulary, d2l's sequential batches (the
state carried, detached, from batch to batch and reset each epoch) or random ones (a
fresh state per batch), cross-entropy on the next character, and at each evaluation
the perplexity of the held-out tail and of the training text's start, and a sample
continued from a prefix at the run's temperature. Samples go into the history as
`<model>_sample`, so the pages show them while training goes on. Every model is a
`CharLM` around a recurrent core of `gru_core.cells` (d2l's from-scratch GRU included).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gru_core import cells, metrics
from gru_core import text as chars
from gru_core.config import ConfigError, _choice, _float, _int, _validate
from gru_core.i18n import t
from gru_core.models import Forecaster
from gru_core.spec import ModelSpec, RunSpec, task_options
from gru_core.tasks import Batch, Metric

MAX_PREFIX = 500  # characters of a sample's prefix (a sample is kept each epoch, and in bundles)
TRAIN_EVAL_CHARS = 20_000  # training perplexity is measured on the text's first characters


@dataclass(frozen=True)
class TextOptions:
    """The text task's own settings; the defaults are the tutorial's (seed003)."""

    corpus: str = _choice("tang", *chars.CORPORA, "upload")  # a shipped corpus or `text`
    text: str = ""  # the user's own text (corpus "upload"), already read by read_upload
    sampling: str = _choice("sequential", "sequential", "random")  # d2l's two iterators
    optimizer: str = _choice("sgd", "sgd", "adam")  # sgd: p -= lr * grad of the mean loss
    embedding: int = _int(0, 0, 1024)  # 0: one-hot inputs (d2l); E: a learned embedding
    init: str = _choice("d2l", "d2l", "torch")  # d2l: weights N(0, 0.01^2), biases 0
    held_out: float = _float(0.1, 0.01, 0.5)  # trailing share of the text held out
    prefix: str = ""  # what samples continue (<= MAX_PREFIX chars); "": the corpus's ("床前")
    sample_length: int = _int(50, 1, 2000)  # characters written after the prefix
    temperature: float = _float(1.0, 0.0, 10.0)  # 0: the likeliest character; higher: bolder

    def __post_init__(self) -> None:
        _validate(self)
        if (self.corpus == "upload") != bool(self.text):
            raise ConfigError("give a text exactly when the corpus is 'upload'")
        if len(self.prefix) > MAX_PREFIX:
            raise ConfigError(t("text.error.prefix_long", n=len(self.prefix), most=MAX_PREFIX))

    def full_text(self) -> str:
        return self.text if self.corpus == "upload" else _shipped(self.corpus)

    def sample_prefix(self) -> str:
        if self.prefix:
            return self.prefix
        return chars.CORPORA[self.corpus][1] if self.corpus in chars.CORPORA else self.text[:2]


@functools.lru_cache(maxsize=4)
def _shipped(name: str) -> str:
    return chars.load_corpus(name)


@functools.lru_cache(maxsize=8)
def _vocab(text: str) -> chars.Vocab:
    return chars.Vocab.build(text)


def corpus_parts(opts: TextOptions) -> tuple[chars.Vocab, str, str]:
    """(vocabulary of the training part, training text, held-out text)."""
    train, held = chars.split_text(opts.full_text(), opts.held_out)
    return _vocab(train), train, held


class TextModel(Forecaster):
    """A `CharLM` in the engine's signature: logits, state = model(x (batch, time) int64)."""

    state_batch_dim = 1  # states are (layers, batch, hidden), or a tuple of them (LSTM)

    def __init__(self, lm: chars.CharLM) -> None:
        super().__init__()
        self.lm = lm

    def core(self, x: torch.Tensor, state):
        return self.lm(x, state)  # (batch, time, vocab), state

    @property
    def cell(self) -> nn.Module:
        """The recurrent core, whose gates the Gates page traces."""
        return self.lm.core


def core_factory(spec: ModelSpec) -> chars.CoreFactory:
    """How `spec`'s recurrent core is built (torch's nn.GRU for "gru": at 256 units and a
    batch of 32 the products dominate, and the numpy kernels are no faster; BENCHMARKS.md 8)."""
    if spec.kind not in cells.KINDS:
        raise ConfigError(
            f"model kind {spec.kind!r} cannot model text; choose one of {', '.join(cells.KINDS)}"
        )
    return lambda inputs, hidden, layers: cells.build(
        spec.kind, inputs, hidden, layers, spec.dropout
    )


METRICS = (
    Metric(
        "held_out_perplexity",
    ),
    Metric(
        "train_perplexity",
    ),
)


class TextTask:
    """A character-level language model on one text; see the module docstring."""

    name = "text"
    metrics = METRICS
    primary = "held_out_perplexity"
    train_loss_help = "task.text.train_loss_help"
    results_view = "samples"
    texts = ("sample",)  # history columns that hold text: `<model>_sample`
    loss_weight = 1.0
    fresh_state_each_epoch = True  # d2l starts each epoch from a zero state

    def __init__(self, spec: RunSpec, device: torch.device) -> None:
        self.opts = opts = task_options(spec.task, spec.options)
        self.cfg = spec.train
        self.vocab, train, held = corpus_parts(opts)
        self.train_ids = self.vocab.encode(train).to(device)
        self.held_ids = self.vocab.encode(held)
        self.carries_state = opts.sampling == "sequential"
        self.prefix = opts.sample_prefix()
        missing = self.vocab.unknown_in(self.prefix)
        if missing:
            raise ConfigError(
                f"the prefix has characters the training text lacks: {' '.join(missing)}"
            )
        if len(self.train_ids) <= spec.train.batch_size * spec.train.seq_len + 1:
            raise ConfigError(
                f"the training text ({len(self.train_ids)} characters) is too short for one"
                f" batch of {spec.train.batch_size} x {spec.train.seq_len}"
            )
        self._rng = random.Random(spec.train.seed)
        self._evaluations = 0

    @staticmethod
    def build_model(run: RunSpec, spec: ModelSpec) -> Forecaster:
        opts = task_options(run.task, run.options)
        vocab = corpus_parts(opts)[0]
        lm = chars.CharLM(
            len(vocab), core_factory(spec), spec.hidden_size, spec.num_layers, opts.embedding
        )
        if opts.init == "d2l" and not lm.head.weight.is_meta:
            chars.d2l_init_(lm)
        return TextModel(lm)

    def optimizer(self, model: nn.Module, lr: float) -> torch.optim.Optimizer:
        return chars.make_optimizer(model, self.opts.optimizer, lr)

    def prepare(self, name: str, model: Forecaster) -> None:
        pass

    def batches(self) -> list[Batch]:
        it = chars.BATCHES[self.opts.sampling]
        return [
            Batch(x, y)
            for x, y in it(self.train_ids, self.cfg.batch_size, self.cfg.seq_len, self._rng)
        ]

    def loss(self, pred: torch.Tensor, batch: Batch) -> torch.Tensor:
        return F.cross_entropy(pred.reshape(-1, pred.shape[-1]), batch.y.reshape(-1))

    def kernel_step(self, kernel, model: Forecaster, batch: Batch, state) -> tuple[float, object]:
        raise NotImplementedError("the text task trains with torch only")

    def evaluate(self, models: Mapping[str, Forecaster], states: Mapping[str, object]) -> dict:
        self._evaluations += 1
        rows = self.cfg.batch_size
        head = self.train_ids[:TRAIN_EVAL_CHARS]
        row = {}
        for name, model in models.items():
            lm = model.lm
            held = chars.perplexity(lm, self.held_ids, chars.eval_rows(len(self.held_ids), rows))
            train = chars.perplexity(lm, head, chars.eval_rows(len(head), rows))
            row[f"{name}_held_out_perplexity"] = metrics.finite_or_none(held)
            row[f"{name}_train_perplexity"] = metrics.finite_or_none(train)
            row[f"{name}_sample"] = chars.sample(
                lm,
                self.vocab,
                self.prefix,
                self.opts.sample_length,
                self.opts.temperature,
                self.cfg.seed + self._evaluations,
            )
        return row

    def resumable(self) -> dict[str, torch.Tensor]:
        version, words, _ = self._rng.getstate()
        return {
            "rng": torch.tensor([version, *words], dtype=torch.int64),
            "evaluations": torch.tensor(self._evaluations),
        }

    def load_resumable(self, tensors: Mapping[str, torch.Tensor]) -> None:
        values = [int(v) for v in tensors["rng"]]
        self._rng.setstate((values[0], tuple(values[1:]), None))
        self._evaluations = int(tensors["evaluations"])
