import dataclasses
import json

import pytest
import torch

from gru_core.__main__ import main
from gru_core.config import PRESETS, ConfigError, ModelConfig
from gru_core.spec import RunSpec
from gru_core.tasks import parameter_counts
from gru_core.tasks.text import TextOptions
from gru_core.text import CharLM, Vocab, read_upload
from gru_core.train import Trainer, train

# A small text with structure to learn: short lines that repeat with variations.
TINY = "".join(f"the cat sat on mat {i % 7}.\nthe dog ran to log {i % 5}.\n" for i in range(60))


def _spec(epochs: int = 4, options: dict | None = None, **train) -> RunSpec:
    p = PRESETS["seed003"]
    settings = {"epochs": epochs, "lr": 1.0, "batch_size": 4, "seq_len": 16, "eval_every": 1}
    return RunSpec.from_preset(
        dataclasses.replace(
            p,
            options={"corpus": "upload", "text": TINY, "prefix": "the ", **(options or {})},
        ),
        model=ModelConfig(models=("gru",), hidden_size=24),
        train=dataclasses.replace(p.train, device="cpu", **{**settings, **train}),
    )


def test_seed003_is_the_tutorials_setting():
    p = PRESETS["seed003"]
    assert p.task == "text" and p.options == {"corpus": "tang"}
    assert "gru" in p.model.models and p.model.hidden_size == 256
    t = p.train
    assert (t.epochs, t.lr, t.seq_len, t.batch_size, t.clip_grad, t.eval_every) == (
        160,
        100.0,
        35,
        32,
        0.01,
        40,
    )
    opts = TextOptions(**p.options)
    assert (opts.sampling, opts.optimizer, opts.init, opts.sample_length) == (
        "sequential",
        "sgd",
        "d2l",
        50,
    )


def test_batches_are_d2ls_sequential_streams_and_the_model_is_a_char_lm():
    trainer = Trainer(_spec(epochs=1))
    task = trainer.task
    batches = task.batches()
    assert batches[0].x.shape == (4, 16) and batches[0].x.dtype == torch.int64
    # sequential: row b of a batch continues row b of the one before, shifted targets
    assert torch.equal(batches[0].y[:, :-1], batches[0].x[:, 1:])
    assert torch.equal(batches[1].x[:, 0], batches[0].y[:, -1])
    assert task.carries_state and isinstance(trainer.models["gru"].lm, CharLM)
    assert isinstance(trainer.optimizers["gru"], torch.optim.SGD)
    vocab = len(Vocab.build(task.vocab.decode(task.train_ids)))
    assert trainer.models["gru"](batches[0].x)[0].shape == (4, 16, vocab)
    gru = 3 * (24 * vocab + 24 * 24 + 2 * 24) + 24 * vocab + vocab
    assert parameter_counts(_spec()) == {"gru": gru}


def test_perplexity_falls_and_samples_are_deterministic():
    torch.set_num_threads(1)
    trainer = Trainer(_spec(epochs=12, lr=1e-2, clip_grad=1.0, options={"optimizer": "adam"}))
    train(trainer)
    held = [r["gru_held_out_perplexity"] for r in trainer.history]
    assert held[-1] < 0.5 * held[0]
    assert (
        trainer.history[-1]["gru_train_perplexity"]
        < 0.5 * trainer.history[0]["gru_train_perplexity"]
    )
    sample = trainer.history[-1]["gru_sample"]
    assert sample.startswith("the ") and len(sample) == 4 + 50
    again = Trainer(_spec(epochs=12, lr=1e-2, clip_grad=1.0, options={"optimizer": "adam"}))
    train(again)
    assert [r["gru_sample"] for r in again.history] == [r["gru_sample"] for r in trainer.history]
    assert len({r["gru_sample"] for r in trainer.history}) > 1  # a new draw each evaluation


def test_resuming_goes_on_with_the_same_batches():
    first = Trainer(_spec(epochs=3, options={"sampling": "random"}))
    train(first, epochs=1)
    tensors, meta = first.resumable_state()
    resumed = Trainer.resume(first.spec, tensors, meta)
    a, b = first.task.batches(), resumed.task.batches()
    assert all(torch.equal(p.x, q.x) for p, q in zip(a, b, strict=True))


def test_bad_settings_and_uploads_are_refused_with_one_line():
    with pytest.raises(ConfigError, match="exactly when the corpus is 'upload'"):
        TextOptions(corpus="upload")
    with pytest.raises(ConfigError, match="lacks"):
        Trainer(_spec(options={"prefix": "Ω"}))
    with pytest.raises(ConfigError, match="too short for one batch"):
        Trainer(_spec(batch_size=64, seq_len=100))
    with pytest.raises(ConfigError, match="cannot model text"):
        Trainer(
            dataclasses.replace(
                _spec(), models=(dataclasses.replace(_spec().models[0], kind="mlp"),)
            )
        )
    assert read_upload(TINY.encode()) == TINY


def test_cli_trains_the_text_task_and_refuses_bad_files(tmp_path, capsys):
    good = tmp_path / "tiny.txt"
    good.write_text(TINY, encoding="utf-8")
    args = ["train", "--task", "text", "--corpus", str(good), "--epochs", "1", "--hidden", "8"]
    assert main([*args, "--lr", "1", "--models", "gru", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out["gru"]) == {"train_loss", "held_out_perplexity", "train_perplexity", "sample"}
    assert out["preset"] == "seed003" and isinstance(out["gru"]["sample"], str)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9 " * 100)
    assert main(["train", "--task", "text", "--corpus", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "not UTF-8" in err and len(err.splitlines()) == 1
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert main(["train", "--task", "text", "--corpus", str(empty)]) == 2
    assert "empty" in capsys.readouterr().err


def test_a_prefix_longer_than_a_sample_can_start_from_is_refused_naming_the_limit():
    from gru_core.tasks.text import MAX_PREFIX

    TextOptions(corpus="upload", text=TINY, prefix="t" * MAX_PREFIX)  # the longest allowed
    with pytest.raises(ConfigError, match=f"{MAX_PREFIX + 1} characters.*at most {MAX_PREFIX}"):
        TextOptions(corpus="upload", text=TINY, prefix="t" * (MAX_PREFIX + 1))
