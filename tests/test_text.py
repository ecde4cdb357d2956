"""Character-level language models: corpora, uploads, vocabulary, d2l's batches, model, sampling."""

from __future__ import annotations

import dataclasses
import math
import random
from collections import Counter

import pytest
import torch
from torch import nn

from benchmarks import text_baseline as d2l
from gru_core import text
from gru_core.config import ConfigError
from gru_core.text import CharLM, TextError, Vocab, torch_core


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One thread, as the app trains: on a busy machine a thread pool slows tiny models 10x."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TINY = "the cat sat on the mat. the rat ate the hat.\n" * 24  # 1,080 characters


def tiny_model(vocab_size: int, core=nn.GRU, hidden: int = 8, embedding: int = 0) -> CharLM:
    torch.manual_seed(0)
    return CharLM(vocab_size, torch_core(core), hidden, embedding=embedding)


def constant_model(probs: list[float]) -> CharLM:
    """A model whose every prediction is `probs`, whatever it reads: zero head, log-prob bias."""
    model = tiny_model(len(probs))
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(torch.tensor(probs).log())
    return model


# ---------------------------------------------------------------- corpora


def test_tang_corpus_is_320_poems_of_title_author_and_verse_without_notes():
    corpus = text.load_corpus("tang")
    poems = corpus.rstrip("\n").split("\n\n")
    assert len(poems) == 320
    assert poems[0] == "行宫\n元稹\n寥落古行宫，宫花寂寞红。\n白头宫女在，闲坐说玄宗。"
    assert "床前明月光" in corpus
    assert not set("()（）") & set(corpus)
    assert all(len(p.split("\n")) >= 3 for p in poems)


def test_tang_notes_are_removed_even_when_they_run_over_paragraphs():
    collection = {
        "content": [
            {
                "content": [
                    {
                        "chapter": "题",
                        "author": "某",
                        "paragraphs": [
                            "一二三，四五六。(一二",
                            "一作：甲乙",
                            "）",
                            "七八九。（九 一作：十）",
                        ],
                    }
                ]
            }
        ]
    }
    assert text.tang_text(collection) == "题\n某\n一二三，四五六。\n七八九。\n"


def test_shakespeare_corpus_is_the_char_rnn_file():
    corpus = text.load_corpus("shakespeare")
    assert len(corpus) == 1_115_394
    assert corpus.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")


def test_unknown_corpus_is_refused_naming_the_choices():
    with pytest.raises(TextError, match="tang, shakespeare"):
        text.load_corpus("lyrics")


# ---------------------------------------------------------------- uploads


def test_upload_decodes_utf8_drops_the_bom_and_normalises_line_ends():
    raw = "\ufeff".encode() + "床前明月光，疑是地上霜。\r\n".encode() * 20 + b"end\r"
    got = text.read_upload(raw)
    assert got.startswith("床前明月光，疑是地上霜。\n床前")
    assert got.endswith("\nend\n")
    assert "\r" not in got and "\ufeff" not in got


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the file is empty"),
        (b" \n\t\n" * 100, "the file is empty"),
        (
            b"PK\x03\x04" + b"\x00" * 50 + b"abc" * 100,
            r"binary file, not text \(a zero byte at offset 4\)",
        ),
        (
            "caf\u00e9 au lait, s'il vous pla\u00eet. ".encode("latin-1") * 20,
            "byte 0xe9 at offset 3",
        ),
        (TINY.encode() + b"\xff" + TINY.encode(), f"byte 0xff at offset {len(TINY)}"),
        (b"ab" * 300, "2 distinct characters; it needs at least 5"),
        (b"abcdefg" * 10, "70 characters; it needs at least 200"),
        (b"abcdefghij" * 150_000, r"the file is 1.4 MiB; the limit is 1.0 MiB"),
    ],
)
def test_bad_uploads_are_refused_with_one_line_saying_why(raw, message):
    with pytest.raises(TextError, match=message) as err:
        text.read_upload(raw, max_bytes=2**20)
    assert "\n" not in str(err.value)


def test_a_valid_upload_passes_the_checks():
    assert text.read_upload(TINY.encode()) == TINY


# ---------------------------------------------------------------- vocabulary and split


def test_vocab_orders_by_frequency_then_code_point_with_unknown_first():
    vocab = Vocab.build("bcabca a")
    assert vocab.chars == (text.UNKNOWN, "a", "b", "c", " ")
    assert Vocab.build("acb" * 3) == Vocab.build("bca" * 3)  # order of the text does not matter


def test_encode_decode_round_trip_and_unknown_characters():
    vocab = Vocab.build(TINY)
    ids = vocab.encode(TINY)
    assert ids.dtype == torch.int64 and ids.shape == (len(TINY),)
    assert vocab.decode(ids) == TINY
    held = vocab.encode("the dog")
    assert (held == 0).tolist() == [False] * 4 + [True, False, True]  # no 'd' or 'g' in TINY
    assert vocab.decode(held) == f"the {text.UNKNOWN}o{text.UNKNOWN}"
    assert vocab.unknown_in("dog day") == ["d", "g", "y"]


def test_split_holds_out_the_tail_at_a_paragraph_break():
    corpus = "".join(f"poem {i}\nline\n\n" for i in range(100))
    train, held = text.split_text(corpus, 0.1)
    assert train + held == corpus
    assert train.endswith("\n\n") and held.startswith("poem ")
    assert 0.08 <= len(held) / len(corpus) <= 0.1


# ---------------------------------------------------------------- d2l's iterators


@pytest.mark.parametrize("kind", ["random", "sequential"])
@pytest.mark.parametrize(("length", "batch", "steps"), [(35, 2, 5), (1000, 4, 7), (5000, 32, 35)])
def test_batches_are_d2ls_for_the_same_seed(kind, length, batch, steps):
    reference = {"random": d2l.seq_data_iter_random, "sequential": d2l.seq_data_iter_sequential}
    corpus = [(7 * i) % 97 for i in range(length)]
    for seed in range(4):
        random.seed(seed)
        want = list(reference[kind](corpus, batch, steps))
        got = list(text.BATCHES[kind](torch.tensor(corpus), batch, steps, random.Random(seed)))
        assert len(got) == len(want) > 0
        for (x, y), (wx, wy) in zip(got, want, strict=True):
            assert x.shape == (batch, steps) and x.dtype == torch.int64
            assert torch.equal(x, wx) and torch.equal(y, wy)
    random.seed(0)  # control: another seed gives other batches, so the match above means something
    other = list(text.BATCHES[kind](torch.tensor(corpus), batch, steps, random.Random(1)))
    assert any(
        not torch.equal(a[0], b[0])
        for a, b in zip(other, reference[kind](corpus, batch, steps), strict=False)
    )


def test_sequential_rows_continue_from_batch_to_batch_and_targets_are_one_ahead():
    positions = torch.arange(2000)
    batches = list(text.seq_data_iter_sequential(positions, 4, 10, random.Random(3)))
    for (x, y), (nx, _) in zip(batches, batches[1:], strict=False):
        assert torch.equal(y, x + 1)
        assert torch.equal(nx[:, 0], x[:, -1] + 1)


# ---------------------------------------------------------------- the model


@pytest.mark.parametrize("core", [nn.GRU, nn.LSTM, nn.RNN])
@pytest.mark.parametrize("embedding", [0, 6])
def test_charlm_shapes_and_state_carry(core, embedding):
    torch.manual_seed(0)
    model = CharLM(11, torch_core(core), 8, layers=2, embedding=embedding)
    x = torch.randint(0, 11, (3, 9))
    logits, state = model(x)
    assert logits.shape == (3, 9, 11)
    h = state[0] if isinstance(state, tuple) else state
    assert h.shape == (2, 3, 8)
    first, mid = model(x[:, :4])  # reading in two pieces with the state carried = one piece
    second, _ = model(x[:, 4:], mid)
    torch.testing.assert_close(torch.cat([first, second], 1), logits, rtol=0, atol=1e-6)
    fresh, _ = model(x[:, 4:])  # control: without the state the second piece differs
    assert not torch.allclose(fresh, logits[:, 4:], atol=1e-4)


@pytest.mark.parametrize("embedding", [0, 5])
def test_kernel_gru_core_gives_nn_grus_numbers_and_gradients(embedding):
    torch.manual_seed(0)
    fast = CharLM(9, text.kernel_gru_core, 6, embedding=embedding).double()
    plain = CharLM(9, torch_core(nn.GRU), 6, embedding=embedding).double()
    x = torch.randint(0, 9, (3, 7))
    h0 = torch.randn(1, 3, 6, dtype=torch.float64)
    assert not torch.allclose(fast(x, h0)[0], plain(x, h0)[0])  # control: other weights
    plain.load_state_dict(fast.state_dict())
    outputs = []
    for model in (fast, plain):
        logits, h = model(x, h0)
        (logits.square().sum() + h.sum()).backward()
        outputs.append([logits, h, *(p.grad for p in model.parameters())])
    for a, b in zip(*outputs, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)
    assert text.kernel_gru_core(4, 6, 2)(torch.randn(2, 3, 4))[0].shape == (2, 3, 6)  # 2 layers


def test_a_gru_core_reads_characters_without_the_one_hot_product(monkeypatch):
    """`one_hot_gru` is nn.GRU on one-hot vectors: outputs, state and every gradient."""
    torch.manual_seed(1)
    core = nn.GRU(9, 6, batch_first=True).double()
    x = torch.randint(0, 9, (3, 7))
    h0 = torch.randn(1, 3, 6, dtype=torch.float64)
    results = []
    for fast in (True, False):
        core.zero_grad()
        if fast:
            out, h = text.one_hot_gru(core, x, h0)
        else:
            out, h = core(torch.eye(9, dtype=torch.float64)[x], h0)
        (out.square().sum() + 3 * h.sum()).backward()
        results.append([out, h, *(p.grad.clone() for p in core.parameters())])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    assert results[0][2].count_nonzero() > 0  # the input weights' gradient is there
    # Control: a state of zeros is not h0, and the comparison sees it.
    assert not torch.allclose(text.one_hot_gru(core, x, None)[0], results[1][0])
    # CharLM takes this path for a one-layer GRU on one-hot input, and only there.
    calls = []
    real = text.one_hot_gru
    monkeypatch.setattr(text, "one_hot_gru", lambda *a: calls.append(1) or real(*a))
    CharLM(9, torch_core(nn.GRU), 6)(x)
    assert calls == [1]
    CharLM(9, torch_core(nn.GRU), 6, layers=2)(x)
    CharLM(9, torch_core(nn.GRU), 6, embedding=4)(x)
    CharLM(9, torch_core(nn.LSTM), 6)(x)
    assert calls == [1]


def test_one_hot_input_is_what_the_core_reads():
    model = tiny_model(5)
    x = torch.tensor([[1, 4, 2]])
    onehot = torch.eye(5)[x]  # (1, 3, 5)
    assert torch.equal(model.inputs(x), onehot)
    out, _ = model.core(onehot)
    torch.testing.assert_close(model(x)[0], model.head(out))


def test_d2l_init_draws_weights_near_zero_and_zeroes_biases():
    model = tiny_model(50, hidden=64)
    text.d2l_init_(model)
    w = model.core.weight_ih_l0.detach()
    assert abs(float(w.std()) - 0.01) < 0.001
    assert all(not b.detach().any() for n, b in model.named_parameters() if "bias" in n)


# ---------------------------------------------------------------- training pieces


def test_grad_clipping_scales_to_theta_as_d2l_does():
    a, b = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(1, 1))
    a.grad, b.grad = torch.tensor([3.0, 0.0]), torch.tensor([[4.0]])
    assert text.grad_clipping([a, b], 10.0) == pytest.approx(5.0)
    assert a.grad.tolist() == [3.0, 0.0]  # under theta: untouched
    assert text.grad_clipping([a, b], 1.0) == pytest.approx(5.0)
    torch.testing.assert_close(a.grad, torch.tensor([0.6, 0.0]))
    torch.testing.assert_close(b.grad, torch.tensor([[0.8]]))
    torch.manual_seed(0)
    ours = [nn.Parameter(torch.zeros(4, 3)) for _ in range(3)]
    for p in ours:
        p.grad = torch.randn(4, 3)
    theirs = [p.detach().clone().requires_grad_() for p in ours]
    for p, q in zip(theirs, ours, strict=True):
        p.grad = q.grad.clone()
    text.grad_clipping(ours, 0.5)
    d2l.grad_clipping(theirs, 0.5)
    for p, q in zip(ours, theirs, strict=True):
        torch.testing.assert_close(p.grad, q.grad)


def test_sgd_is_d2ls_sgd_with_batch_size_one():
    model = tiny_model(6)
    twin = [p.detach().clone().requires_grad_() for p in model.parameters()]
    x = torch.tensor([[1, 2, 3]])
    model(x)[0].square().sum().backward()
    for p, q in zip(twin, model.parameters(), strict=True):
        p.grad = q.grad.clone()
    text.make_optimizer(model, "sgd", 100.0).step()
    d2l.sgd(twin, 100.0, batch_size=1)
    for p, q in zip(model.parameters(), twin, strict=True):
        torch.testing.assert_close(p, q)
    with pytest.raises(ValueError, match="sgd, adam"):
        text.make_optimizer(model, "lbfgs", 1.0)


class RecordingGRU(nn.GRU):
    """nn.GRU that records the state it was handed at each call."""

    def forward(self, x, h0=None):
        self.handed.append(h0)
        out, h = super().forward(x, h0)
        self.returned.append(h)
        return out, h


@pytest.mark.parametrize("sampling", ["sequential", "random"])
def test_train_epoch_carries_the_state_detached_or_resets_it(sampling):
    def core(i, h, n):
        gru = RecordingGRU(i, h, n, batch_first=True)
        gru.handed, gru.returned = [], []
        return gru

    vocab = Vocab.build(TINY)
    torch.manual_seed(0)
    model = CharLM(len(vocab), core, 8)
    opt = text.make_optimizer(model, "sgd", 1.0)
    cfg = text.TextConfig(batch_size=4, num_steps=10, sampling=sampling, clip=1.0)
    text.train_epoch(model, vocab.encode(TINY), opt, cfg, random.Random(0))
    handed, returned = model.core.handed, model.core.returned
    assert len(handed) >= 20 and handed[0] is None
    if sampling == "random":
        assert all(h is None for h in handed)
    else:
        for h, prev in zip(handed[1:], returned, strict=False):
            assert not h.requires_grad and torch.equal(h, prev.detach())


def test_perplexity_matches_a_hand_calculation():
    model = constant_model([0.2, 0.3, 0.5])
    ids = torch.tensor([1, 2, 2, 1, 2])  # predicted: 2, 2, 1, 2 (rows=1) or [2, 2], [1, 2] (rows=2)
    hand = math.exp(-(3 * math.log(0.5) + math.log(0.3)) / 4)
    assert text.perplexity(model, ids) == pytest.approx(hand, rel=1e-6)
    assert text.perplexity(model, ids, rows=2) == pytest.approx(hand, rel=1e-6)
    with_unknown = torch.tensor([1, 2, 0, 2, 1, 2])  # the unknown target (index 0) is skipped
    assert text.perplexity(model, with_unknown) == pytest.approx(hand, rel=1e-6)
    assert text.perplexity(model, ids[:3]) != pytest.approx(hand, rel=1e-3)  # control


def test_perplexity_in_chunks_equals_one_pass_over_the_text():
    vocab = Vocab.build(TINY)
    model = tiny_model(len(vocab))
    ids = vocab.encode(TINY[:101])
    with torch.no_grad():
        logits, _ = model(ids[None, :-1])
    direct = math.exp(float(nn.functional.cross_entropy(logits[0], ids[1:])))
    assert text.perplexity(model, ids, chunk=7) == pytest.approx(direct, rel=1e-5)
    assert model.training  # the mode is restored


def unigram_perplexity(corpus: str) -> float:
    counts = Counter(corpus[1:])
    n = sum(counts.values())
    return math.exp(-sum(c / n * math.log(c / n) for c in counts.values()))


@pytest.mark.parametrize(
    "settings",
    [
        {"optimizer": "adam", "lr": 0.02, "clip": 1.0, "init": "torch"},
        {"optimizer": "sgd", "lr": 100.0, "clip": 0.01, "init": "d2l"},  # seed003's rule
    ],
)
def test_perplexity_falls_well_below_the_unigram_perplexity_on_a_tiny_corpus(settings):
    vocab = Vocab.build(TINY)
    ids = vocab.encode(TINY)
    cfg = text.TextConfig(
        hidden_size=32, num_steps=10, batch_size=4, epochs=12, sample_every=100, **settings
    )
    model = text.build_model(cfg, len(vocab), torch_core(nn.GRU))
    before = text.perplexity(model, ids, rows=4)
    history = text.fit(model, vocab, ids, ids, cfg)
    curve = [r.train_perplexity for r in history]
    unigram = unigram_perplexity(TINY)  # knowing only the letter frequencies gives this (8.6)
    assert before > unigram  # untrained: about the vocabulary size ...
    assert curve[-1] < curve[0]
    assert text.perplexity(model, ids, rows=4) < unigram / 3  # ... trained: far below unigram


def test_training_is_deterministic_under_a_seed():
    vocab = Vocab.build(TINY)
    ids = vocab.encode(TINY)
    cfg = text.TextConfig(hidden_size=16, num_steps=10, batch_size=4, epochs=2, sampling="random")

    def run(seed):
        c = dataclasses.replace(cfg, seed=seed)
        model = text.build_model(c, len(vocab), torch_core(nn.GRU))
        history = text.fit(model, vocab, ids, ids, c, ("the ",))
        return [r.train_perplexity for r in history], history[-1].samples

    assert run(0) == run(0)
    assert run(0) != run(1)


# ---------------------------------------------------------------- sampling


def trained_tiny() -> tuple[CharLM, Vocab]:
    vocab = Vocab.build(TINY)
    cfg = text.TextConfig(hidden_size=16, num_steps=10, batch_size=4, epochs=3, optimizer="adam",
                          lr=0.02, clip=1.0, init="torch")  # fmt: skip
    model = text.build_model(cfg, len(vocab), torch_core(nn.GRU))
    text.fit(model, vocab, vocab.encode(TINY), vocab.encode(TINY), cfg)
    return model, vocab


def test_sampling_is_deterministic_under_a_seed_and_starts_with_the_prefix():
    model, vocab = trained_tiny()
    a = text.sample(model, vocab, "the ", 40, temperature=1.0, seed=5)
    assert a == text.sample(model, vocab, "the ", 40, temperature=1.0, seed=5)
    assert a.startswith("the ") and len(a) == 44
    others = {text.sample(model, vocab, "the ", 40, temperature=1.0, seed=s) for s in range(6)}
    assert len(others) > 1  # the seed matters


def test_temperature_zero_takes_the_most_likely_character_each_step():
    model, vocab = trained_tiny()
    got = text.sample(model, vocab, "the c", 20, temperature=0.0, seed=1)
    ids = vocab.encode("the c").tolist()
    with torch.no_grad():
        for _ in range(20):  # greedy by re-reading the whole text each step (no carried state)
            logits, _ = model(torch.tensor([ids]))
            ids.append(int(logits[0, -1, 1:].argmax()) + 1)
    assert got == vocab.decode(ids)
    assert got == text.sample(model, vocab, "the c", 20, temperature=0.0, seed=99)


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_temperature_reshapes_the_distribution_as_softmax_of_logits_over_t(temperature):
    probs = [1e-9, 0.6, 0.3, 0.1]
    vocab = Vocab((text.UNKNOWN, "a", "b", "c"))
    model = constant_model(probs)
    draws = Counter(text.sample(model, vocab, "a", 1, temperature, seed=s)[1] for s in range(800))
    logits = torch.tensor(probs[1:]).log() / temperature
    want = torch.softmax(logits, 0).tolist()
    for ch, p in zip("abc", want, strict=True):
        assert abs(draws[ch] / 800 - p) < 0.06  # 3.5 binomial standard deviations at most
    assert (draws["a"] / 800 > 0.75) == (temperature < 1)  # cooler: the favourite more often


def test_the_unknown_character_is_never_written():
    vocab = Vocab((text.UNKNOWN, "a", "b"))
    model = constant_model([0.98, 0.01, 0.01])
    assert text.UNKNOWN not in text.sample(model, vocab, "a", 30, temperature=1.0, seed=0)


def test_bad_prefixes_are_refused_clearly():
    vocab = Vocab.build(TINY)
    model = tiny_model(len(vocab))
    with pytest.raises(TextError, match="characters the corpus lacks: 'R' 'O' 'M' 'E' ':'"):
        text.sample(model, vocab, "ROMEO:", 5)
    with pytest.raises(TextError, match="prefix is empty"):
        text.sample(model, vocab, "", 5)
    with pytest.raises(TextError, match="temperature"):
        text.sample(model, vocab, "the", 5, temperature=-1.0)


# ---------------------------------------------------------------- settings


def test_seed003_is_the_tutorials_setting():
    p = text.TEXT_PRESETS["seed003"]
    assert (p.hidden_size, p.num_layers, p.embedding, p.num_steps, p.batch_size) == (
        256, 1, 0, 35, 32,
    )  # fmt: skip
    assert (p.sampling, p.optimizer, p.lr, p.clip) == ("sequential", "sgd", 100.0, 0.01)
    assert (p.epochs, p.sample_every, p.sample_length) == (160, 40, 50)


def test_settings_out_of_range_are_refused_naming_the_field():
    with pytest.raises(ConfigError, match="sampling must be one of sequential, random"):
        text.TextConfig(sampling="shuffled")
    with pytest.raises(ConfigError, match="num_steps must be an integer"):
        text.TextConfig(num_steps=0)


def test_fit_reports_held_out_perplexity_and_samples_every_k_epochs():
    vocab = Vocab.build(TINY)
    train, held = text.split_text(TINY * 2, 0.2)
    cfg = text.TextConfig(hidden_size=8, num_steps=10, batch_size=4, epochs=5, sample_every=2,
                          sample_length=7)  # fmt: skip
    model = text.build_model(cfg, len(vocab), torch_core(nn.GRU))
    seen = []
    history = text.fit(model, vocab, vocab.encode(train), vocab.encode(held), cfg, ("the",),
                       on_epoch=seen.append)  # fmt: skip
    assert seen == history and [r.epoch for r in history] == [1, 2, 3, 4, 5]
    evaluated = [r.epoch for r in history if r.held_out_perplexity is not None]
    assert evaluated == [2, 4, 5]
    assert all(len(r.samples["the"]) == 10 for r in history if r.epoch in evaluated)
    assert all(not r.samples for r in history if r.epoch not in evaluated)


def test_a_text_too_short_for_one_batch_is_refused():
    vocab = Vocab.build(TINY)
    model = tiny_model(len(vocab))
    with pytest.raises(TextError, match="too short for one batch of 32 x 35"):
        opt = text.make_optimizer(model, "sgd", 1.0)
        text.train_epoch(model, vocab.encode(TINY[:500]), opt, text.TextConfig(), random.Random(0))
