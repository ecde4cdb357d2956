"""Character-level language models: corpora, vocabulary, d2l's batches, model, training, sampling.

What the `text` task is built from: the corpora shipped in `assets/corpora/` and a user's
own UTF-8 file (checked, with one-line errors), a character vocabulary, d2l's two
minibatch iterators (random sampling and sequential partitioning) reproduced batch for
batch, `CharLM` (one-hot or embedding input, any batch-first recurrent core, a linear
head), one training epoch the way d2l's `train_epoch_ch8` does it (state carried and
detached between sequential batches, reset for random ones; gradients clipped by their
global norm), perplexity, and seeded sampling from a prefix. It knows nothing of the UI
and nothing of the engine's tasks; a task wraps it.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gru_core import kernels
from gru_core.config import _choice, _float, _int, _validate
from gru_core.i18n import t
from gru_core.rollout import evaluating

CORPORA_DIR = Path(__file__).resolve().parents[1] / "assets" / "corpora"
CORPORA = {  # name -> (file in CORPORA_DIR, a prefix to continue)
    "tang": ("tangshisanbaishou.simplified.json", "床前"),
    "shakespeare": ("tinyshakespeare.txt", "ROMEO:"),
}
MAX_UPLOAD_BYTES = 4 * 2**20  # a user's text file; Tiny Shakespeare is 1.1 MB
MIN_CHARS = 200  # shortest text worth training on
MIN_DISTINCT = 5  # fewest distinct characters
MAX_DISTINCT = 8000  # most distinct characters (one-hot inputs and the head grow with it)
UNKNOWN = "\ufffd"  # stands for a character of held-out text the vocabulary lacks

# An editorial note in the Tang file: a variant reading in parentheses, possibly running
# over the next paragraphs, e.g. "(明年 一作：年年)". Not verse.
_NOTE = re.compile(r"\s*[(（][^)）]*[)）]")


class TextError(ValueError):
    """A text or a prefix cannot be used; the message is one line for the user."""


# ---------------------------------------------------------------- corpora and uploads


def tang_text(collection: dict) -> str:
    """The Tang anthology as text: per poem its title, author, then its lines; blank line between.

    Editorial notes in parentheses (variant readings) are removed; they are not verse.
    """
    poems = []
    for section in collection["content"]:
        for poem in section["content"]:
            body = _NOTE.sub("", "\n".join(poem["paragraphs"]))
            lines = [line.strip() for line in body.split("\n")]
            poems.append("\n".join([poem["chapter"], poem["author"], *filter(None, lines)]))
    return "\n\n".join(poems) + "\n"


def load_corpus(name: str) -> str:
    """A corpus shipped with the app, by name (see `CORPORA`)."""
    if name not in CORPORA:
        raise TextError(
            t("text.error.unknown_corpus_choose", name=repr(name), names=", ".join(CORPORA))
        )
    path = CORPORA_DIR / CORPORA[name][0]
    if path.suffix == ".json":
        return tang_text(json.loads(path.read_text(encoding="utf-8")))
    return path.read_text(encoding="utf-8")


def read_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """A user's text file (raw bytes) as text, or TextError saying in one line what is wrong.

    UTF-8 only (a leading byte-order mark is dropped); line ends become "\\n".
    """
    if len(data) > max_bytes:
        raise TextError(
            t(
                "text.error.file_mib_limit",
                size=f"{len(data) / 2**20:.1f}",
                limit=f"{max_bytes / 2**20:.1f}",
            )
        )
    nul = data.find(b"\0")
    if nul >= 0:
        raise TextError(t("text.error.looks_like_binary", nul=nul))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TextError(
            t("text.error.file_utf_text", data=f"{data[err.start]:02x}", start=err.start)
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    check_text(text)
    return text


def check_text(text: str) -> None:
    """TextError unless the text is long and varied enough to train on."""
    if not text.strip():
        raise TextError(t("text.error.file_empty"))
    distinct = len(set(text))
    if distinct < MIN_DISTINCT:
        raise TextError(
            t("text.error.text_distinct_characters", distinct=distinct, min_distinct=MIN_DISTINCT)
        )
    if distinct > MAX_DISTINCT:
        raise TextError(
            t("text.error.too_many_characters", distinct=distinct, max_distinct=MAX_DISTINCT)
        )
    if len(text) < MIN_CHARS:
        raise TextError(t("text.error.text_characters_needs", count=len(text), min_chars=MIN_CHARS))


def split_text(text: str, held_out: float = 0.1) -> tuple[str, str]:
    """(train, held-out): the leading part trains, the last `held_out` share is held out.

    The cut moves forward to the next paragraph break (blank line) when there is one, so
    that no poem or speech is split.
    """
    if not 0.0 < held_out < 1.0:
        raise TextError(t("text.error.held_out_between", held_out=repr(held_out)))
    cut = int(len(text) * (1.0 - held_out))
    brk = text.find("\n\n", cut)
    if 0 <= brk < len(text) - 2:
        cut = brk + 2
    return text[:cut], text[cut:]


# ---------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Vocab:
    """Characters by falling frequency (ties by code point); index 0 is the unknown character."""

    chars: tuple[str, ...]  # chars[0] == UNKNOWN
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {c: i for i, c in enumerate(self.chars)})

    @classmethod
    def build(cls, text: str) -> Vocab:
        counts = Counter(text)
        counts.pop(UNKNOWN, None)
        return cls((UNKNOWN, *sorted(counts, key=lambda c: (-counts[c], c))))

    def __len__(self) -> int:
        return len(self.chars)

    def unknown_in(self, text: str) -> list[str]:
        """The distinct characters of `text` this vocabulary lacks, in order of appearance."""
        return list(dict.fromkeys(c for c in text if c not in self.index))

    def encode(self, text: str) -> torch.Tensor:
        """Indices (len(text),) int64; characters not in the vocabulary become index 0."""
        get = self.index.get
        return torch.tensor([get(c, 0) for c in text], dtype=torch.int64)

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        return "".join(self.chars[int(i)] for i in ids)


# ---------------------------------------------------------------- d2l's minibatches


def seq_data_iter_random(
    corpus: torch.Tensor, batch_size: int, num_steps: int, rng: random.Random
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """d2l's random sampling: disjoint subsequences from a random offset, in shuffled order.

    Yields (X, Y), each (batch_size, num_steps) int64, Y shifted one character ahead.
    Draws from `rng` exactly as d2l draws from `random` (offset, then shuffle), so a
    `random.Random(seed)` gives d2l's batches after `random.seed(seed)`.
    """
    offset = rng.randint(0, num_steps - 1)
    num_subseqs = (len(corpus) - offset - 1) // num_steps
    starts = list(range(0, num_subseqs * num_steps, num_steps))
    rng.shuffle(starts)
    steps = torch.arange(num_steps, device=corpus.device)
    for i in range(0, batch_size * (num_subseqs // batch_size), batch_size):
        first = torch.tensor(starts[i : i + batch_size], device=corpus.device)
        pos = offset + first[:, None] + steps  # (batch, steps)
        yield corpus[pos], corpus[pos + 1]


def seq_data_iter_sequential(
    corpus: torch.Tensor, batch_size: int, num_steps: int, rng: random.Random
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """d2l's sequential partitioning: batch_size parallel streams, read num_steps at a time.

    Row b of a batch continues row b of the previous one, so a recurrent state can be
    carried across batches. Yields (X, Y), each (batch_size, num_steps) int64.
    """
    offset = rng.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    xs = corpus[offset : offset + num_tokens].reshape(batch_size, -1)
    ys = corpus[offset + 1 : offset + 1 + num_tokens].reshape(batch_size, -1)
    for i in range(0, num_steps * (xs.shape[1] // num_steps), num_steps):
        yield xs[:, i : i + num_steps], ys[:, i : i + num_steps]


BATCHES = {"random": seq_data_iter_random, "sequential": seq_data_iter_sequential}


# ---------------------------------------------------------------- the model

# (input_size, hidden_size, num_layers) -> a module called `out, h_n = core(x, h0)` with
# x (batch, time, input_size), out (batch, time, hidden); h0 None to start from zeros.
CoreFactory = Callable[[int, int, int], nn.Module]
State = torch.Tensor | tuple[torch.Tensor, ...] | None


def torch_core(kind: type[nn.RNNBase]) -> CoreFactory:
    """A core factory for torch's nn.GRU, nn.LSTM or nn.RNN, batch first."""
    return lambda inputs, hidden, layers: kind(inputs, hidden, layers, batch_first=True)


class KernelGRU(nn.GRU):
    """nn.GRU (batch first) whose CPU forward and backward run gru_core.kernels' numpy loops.

    The same weights and the same numbers as nn.GRU (to float rounding); where the kernels
    do not apply (a GPU, hidden > kernels.MAX_HIDDEN) it is nn.GRU itself.
    """

    def forward(self, x: torch.Tensor, hx: torch.Tensor | None = None):
        if kernels.applies(self, x):
            return kernels.gru(self, x, hx)  # (batch, time, hidden), (layers, batch, hidden)
        return super().forward(x, hx)


def kernel_gru_core(inputs: int, hidden: int, layers: int) -> nn.Module:
    """A core factory for `KernelGRU`: the fast CPU path for a GRU."""
    return KernelGRU(inputs, hidden, layers, batch_first=True)


class CharLM(nn.Module):
    """Characters in, next-character logits out: one-hot or embedding, a recurrent core, a head.

        logits, state = model(x, state)   # x (batch, time) int64 -> (batch, time, vocab)

    `embedding=0` feeds one-hot vectors, as d2l does; `embedding=E` learns E-wide vectors.
    """

    def __init__(
        self,
        vocab_size: int,
        core_factory: CoreFactory,
        hidden: int,
        layers: int = 1,
        embedding: int = 0,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, embedding) if embedding else None
        self.core = core_factory(embedding or vocab_size, hidden, layers)
        self.head = nn.Linear(hidden, vocab_size)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """What the core reads for x (batch, time): one-hot (.., vocab) or embedded (.., E)."""
        if self.embed is not None:
            return self.embed(x)
        return F.one_hot(x, self.vocab_size).to(self.head.weight.dtype)

    def forward(self, x: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        if self.embed is None and reads_characters(self.core):
            out, state = one_hot_gru(self.core, x, state)  # the same, without the one-hot product
        else:
            out, state = self.core(self.inputs(x), state)  # (batch, time, hidden)
        return self.head(out), state  # (batch, time, vocab)


def reads_characters(core: nn.Module) -> bool:
    """Whether `one_hot_gru` computes `core` on one-hot inputs: a one-layer `nn.GRU`."""
    return (
        type(core) is nn.GRU
        and core.num_layers == 1
        and not core.bidirectional
        and core.bias
        and core.batch_first
    )


def one_hot_gru(core: nn.GRU, x: torch.Tensor, h0: torch.Tensor | None):
    """`core(F.one_hot(x, vocab), h0)` for characters x (batch, time) int64, the same maths.

    A one-hot vector times the input weights is one column of them: the input product, which
    costs as much as the rest of the step together at a vocabulary of thousands (BENCHMARKS.md
    section 12), is a lookup here, and its gradient adds into the columns of the characters
    read. The recurrence is nn.GRU's (PyTorch's gate convention), step by step.
    """
    w_hh, b_hh = core.weight_hh_l0, core.bias_hh_l0
    gi = F.embedding(x, core.weight_ih_l0.t()) + core.bias_ih_l0  # (batch, time, 3 hidden)
    h = gi.new_zeros(len(x), core.hidden_size) if h0 is None else h0[0]
    outs = []
    for step in gi.unbind(1):
        i_r, i_z, i_n = step.chunk(3, 1)
        h_r, h_z, h_n = torch.addmm(b_hh, h, w_hh.t()).chunk(3, 1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        h = n + z * (h - n)  # (1 - z) n + z h
        outs.append(h)
    return torch.stack(outs, 1), h[None]


def d2l_init_(model: nn.Module, std: float = 0.01) -> None:
    """d2l's initialisation: every weight matrix N(0, std^2), every bias zero (in place)."""
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, std)
            else:
                p.zero_()


def detach_state(state: State) -> State:
    """The state cut from the graph of earlier batches (a tensor or a tuple, as LSTMs carry)."""
    if state is None or isinstance(state, torch.Tensor):
        return None if state is None else state.detach()
    return tuple(s.detach() for s in state)


# ---------------------------------------------------------------- training


def grad_clipping(params: Sequence[nn.Parameter], theta: float) -> float:
    """d2l's `grad_clipping`: if the global L2 norm of the gradients exceeds theta, scale to theta.

    Unlike torch's clip_grad_norm_ there is no epsilon: the norm becomes theta exactly.
    Returns the norm before clipping.
    """
    grads = [p.grad for p in params if p.grad is not None]
    norm = float(torch.sqrt(sum(torch.sum(g * g) for g in grads)))
    if norm > theta:
        torch._foreach_mul_(grads, theta / norm)
    return norm


def make_optimizer(model: nn.Module, name: str, lr: float) -> torch.optim.Optimizer:
    """By name: "adam", or "sgd": plain p -= lr * grad, d2l's `sgd` with batch size 1."""
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    raise ValueError(f"optimizer must be one of sgd, adam; got {name!r}")


@dataclass(frozen=True)
class EpochStats:
    """One training epoch: perplexity of its batches (as d2l reports it) and characters read."""

    perplexity: float
    chars: int


def train_epoch(
    model: nn.Module,
    corpus: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    cfg: TextConfig,
    rng: random.Random,
) -> EpochStats:
    """One pass of d2l's `train_epoch_ch8` over `corpus` (int64 indices, on the model's device).

    Batches of cfg.batch_size x cfg.num_steps from `rng`. sequential: the state starts at
    zeros and is carried (detached) from batch to batch; random: every batch starts from
    zeros. Loss: mean cross-entropy per character; the gradients are clipped to global norm
    cfg.clip (0: not clipped) before the optimizer's step.
    """
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    state: State = None
    total = torch.zeros((), dtype=torch.float64, device=corpus.device)
    chars, batch_size, num_steps = 0, cfg.batch_size, cfg.num_steps
    for x, y in BATCHES[cfg.sampling](corpus, batch_size, num_steps, rng):
        state = None if cfg.sampling == "random" else detach_state(state)
        logits, state = model(x, state)  # (batch, steps, vocab)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        if cfg.clip > 0:
            grad_clipping(params, cfg.clip)
        optimizer.step()
        total += loss.detach() * y.numel()
        chars += y.numel()
    if chars == 0:
        raise TextError(
            t(
                "text.error.training_text_characters",
                count=len(corpus),
                batch_size=batch_size,
                num_steps=num_steps,
            )
        )
    return EpochStats(math.exp(float(total) / chars), chars)


def perplexity(model: nn.Module, ids: torch.Tensor, rows: int = 1, chunk: int = 256) -> float:
    """exp(mean cross-entropy per character) of `ids` (int64) under the model.

    The text is cut into `rows` contiguous rows, each read from a zero state; every
    character but the first of each row is predicted, except unknown ones (index 0:
    held-out characters the training text never showed, which no model can predict).
    `chunk` bounds the logits held at once.
    """
    length = (len(ids) - 1) // rows
    if length < 1:
        raise TextError(t("text.error.characters_are_too", count=len(ids)))
    ids = ids.to(_device(model))
    x = ids[: rows * length].reshape(rows, length)
    y = ids[1 : rows * length + 1].reshape(rows, length)
    known = int((y != 0).sum())
    if known == 0:
        raise TextError(t("text.error.every_character_predict"))
    state: State = None
    total = 0.0
    with evaluating(model):
        for i in range(0, length, chunk):
            logits, state = model(x[:, i : i + chunk], state)  # (rows, chunk, vocab)
            target = y[:, i : i + chunk].reshape(-1)
            total += float(
                F.cross_entropy(logits.flatten(0, 1), target, ignore_index=0, reduction="sum")
            )
    return math.exp(total / known)


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def eval_rows(chars: int, most: int) -> int:
    """Rows to measure a text in: each at least 1,000 characters long, at most `most` rows."""
    return max(1, min(most, chars // 1000))


def sample(
    model: nn.Module,
    vocab: Vocab,
    prefix: str,
    n: int,
    temperature: float = 1.0,
    seed: int = 0,
) -> str:
    """The prefix and n characters the model writes after it; the same seed gives the same text.

    temperature 0 takes the most likely character each step; otherwise characters are
    drawn from softmax(logits / temperature). The unknown character is never written.
    """
    if not prefix:
        raise TextError(t("text.error.prefix_empty_give"))
    missing = vocab.unknown_in(prefix)
    if missing:
        raise TextError(
            t("text.error.prefix_characters_corpus", names=" ".join(map(repr, missing)))
        )
    if temperature < 0:
        raise TextError(t("text.error.temperature_more_got", temperature=temperature))
    gen = torch.Generator().manual_seed(seed)  # on the CPU: the same text on every device
    device = _device(model)
    out = []
    with evaluating(model):
        logits, state = model(vocab.encode(prefix)[None].to(device))  # (1, len(prefix), vocab)
        for _ in range(n):
            last = logits[0, -1].float().cpu()  # (vocab,)
            last[0] = -math.inf  # never the unknown character
            if temperature == 0:
                nxt = int(last.argmax())
            else:
                probs = F.softmax(last / temperature, -1)
                nxt = int(torch.multinomial(probs, 1, generator=gen))
            out.append(nxt)
            logits, state = model(torch.tensor([[nxt]], device=device), state)
    return prefix + vocab.decode(out)


# ---------------------------------------------------------------- settings and a training run


@dataclass(frozen=True)
class TextConfig:
    """Settings of a character-level language model and its training; the defaults are seed003.

    seed003 is the tutorial's setting (d2l's first edition, its GRU chapter, on song
    lyrics): 256 units, 35 steps, batch 32, sequential batches with the state carried
    between them, plain SGD at lr 100 on the mean loss (d2l's `sgd` with batch size 1),
    gradient clipping at global norm 0.01, 160 epochs, 50-character samples every 40.
    d2l's second edition differs: its `train_ch8` always clips at norm 1
    (`grad_clipping(net, 1)`), and its GRU section trains 500 epochs at lr 1. The preset
    keeps the first edition's 0.01 (with lr 100, every step moves the weights by at most 1).
    """

    hidden_size: int = _int(256, 1, 1024)  # units in each recurrent layer
    num_layers: int = _int(1, 1, 4)  # stacked recurrent layers
    embedding: int = _int(0, 0, 1024)  # 0: one-hot input (d2l); E: learned E-wide embedding
    init: str = _choice("d2l", "d2l", "torch")  # d2l: weights N(0, 0.01^2), biases 0
    num_steps: int = _int(35, 1, 1000)  # characters per row of a batch (truncated BPTT length)
    batch_size: int = _int(32, 1, 1024)  # rows per batch
    sampling: str = _choice("sequential", "sequential", "random")  # d2l's two iterators
    optimizer: str = _choice("sgd", "sgd", "adam")  # sgd: p -= lr * grad of the mean loss
    lr: float = _float(100.0, 1e-6, 1000.0)  # learning rate
    clip: float = _float(0.01, 0.0, 1000.0)  # global gradient norm bound; 0 = no clipping
    epochs: int = _int(160, 1, 100_000)  # passes over the training text
    sample_every: int = _int(40, 1, 100_000)  # held-out perplexity and samples every k epochs
    sample_length: int = _int(50, 1, 2000)  # characters written after each prefix
    temperature: float = _float(1.0, 0.0, 10.0)  # 0: most likely character; higher: bolder
    held_out: float = _float(0.1, 0.01, 0.5)  # trailing share of the text held out
    seed: int = _int(0, 0, 2**31 - 1)  # torch seed (weights), batch order and sampling

    def __post_init__(self) -> None:
        _validate(self)


TEXT_PRESETS: dict[str, TextConfig] = {"seed003": TextConfig()}


def build_model(cfg: TextConfig, vocab_size: int, core_factory: CoreFactory) -> CharLM:
    """A CharLM for the settings, its weights drawn from `cfg.seed`."""
    torch.manual_seed(cfg.seed)
    model = CharLM(vocab_size, core_factory, cfg.hidden_size, cfg.num_layers, cfg.embedding)
    if cfg.init == "d2l":
        d2l_init_(model)
    return model


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch of `fit` reports; held-out perplexity and samples only every k epochs."""

    epoch: int  # 1-based
    train_perplexity: float  # over the epoch's batches, as d2l reports it
    chars: int  # characters trained on
    seconds: float  # training time of the epoch
    held_out_perplexity: float | None = None
    samples: dict[str, str] = field(default_factory=dict)  # prefix -> prefix + continuation


def fit(
    model: nn.Module,
    vocab: Vocab,
    train_ids: torch.Tensor,
    held_ids: torch.Tensor,
    cfg: TextConfig,
    prefixes: Sequence[str] = (),
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> list[EpochRecord]:
    """Train `cfg.epochs` epochs; every `cfg.sample_every` (and the last) measure and sample."""
    rng = random.Random(cfg.seed)
    optimizer = make_optimizer(model, cfg.optimizer, cfg.lr)
    history = []
    for epoch in range(1, cfg.epochs + 1):
        start = time.perf_counter()
        stats = train_epoch(model, train_ids, optimizer, cfg, rng)
        seconds = time.perf_counter() - start
        record = EpochRecord(epoch, stats.perplexity, stats.chars, seconds)
        if epoch % cfg.sample_every == 0 or epoch == cfg.epochs:
            samples = {
                p: sample(model, vocab, p, cfg.sample_length, cfg.temperature, cfg.seed + epoch)
                for p in prefixes
            }
            held = perplexity(model, held_ids, rows=eval_rows(len(held_ids), cfg.batch_size))
            record = EpochRecord(epoch, stats.perplexity, stats.chars, seconds, held, samples)
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
    return history
