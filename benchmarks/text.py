"""Characters per second of character-level training: gru_core.text against d2l's plain GRU.

In one run, on one corpus, interleaved round by round (order alternating), one torch thread:

- `baseline`: the tutorial's algorithm written plainly (benchmarks/text_baseline.py):
  d2l's from-scratch GRU, one-hot inputs, a Python loop over steps, its iterator, its
  clipping and its SGD;
- `nn.GRU one-hot`: `CharLM` with `nn.GRU` and one-hot inputs, the same model and settings;
- `nn.GRU embedding`: `CharLM` with `nn.GRU` reading a learned `--embedding`-wide vector
  per character instead of a one-hot one (the input projection becomes a lookup);
- `kernel embedding`, `kernel one-hot`: the same with `KernelGRU` (gru_core.kernels' numpy
  loops, forward and backward, one BLAS thread); one-hot only for vocabularies up to 256.

All train the `seed003` settings (256 units, batch 32 x 35 steps, sequential batches with
the state carried, SGD at lr 100, clipping at 0.01) for `--epochs` epochs on the training
part of the corpus; the timed region is the epochs alone. Speed-ups are medians of
characters per second over the baseline's; per-round ratios are printed too.

    python -m benchmarks.text [--corpus tang] [--rounds 3] [--epochs 1] [--json F]
    python -m benchmarks.text --preset-epochs 160   # also train seed003, report perplexity
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time

import torch
from torch import nn

from benchmarks import text_baseline
from benchmarks.common import load_average, machine, median, print_machine
from gru_core import kernels, text

PRESET = text.TEXT_PRESETS["seed003"]


def corpus_ids(name: str, max_chars: int = 0) -> tuple[text.Vocab, torch.Tensor, torch.Tensor]:
    """The vocabulary, training and held-out ids of a corpus (its first max_chars if > 0)."""
    corpus = text.load_corpus(name)
    train, held = text.split_text(corpus[:max_chars] if max_chars else corpus, PRESET.held_out)
    vocab = text.Vocab.build(train)
    return vocab, vocab.encode(train), vocab.encode(held)


def ours(
    vocab_size: int, ids: torch.Tensor, epochs: int, embedding: int, core: text.CoreFactory
) -> float:
    """Characters per second of CharLM with the core on the preset's settings."""
    cfg = dataclasses.replace(PRESET, embedding=embedding)
    model = text.build_model(cfg, vocab_size, core)
    optimizer = text.make_optimizer(model, cfg.optimizer, cfg.lr)
    rng = random.Random(cfg.seed)
    chars = 0
    start = time.perf_counter()
    for _ in range(epochs):
        chars += text.train_epoch(model, ids, optimizer, cfg, rng).chars
    return chars / (time.perf_counter() - start)


def baseline(vocab_size: int, ids: torch.Tensor, epochs: int) -> float:
    """Characters per second of d2l's from-scratch GRU on the same settings."""
    corpus = ids.tolist()
    random.seed(PRESET.seed)
    torch.manual_seed(PRESET.seed)
    net = text_baseline.RNNModelScratch(vocab_size, PRESET.hidden_size)
    chars = 0
    start = time.perf_counter()
    for _ in range(epochs):
        chars += text_baseline.train_epoch(
            net, corpus, PRESET.batch_size, PRESET.num_steps, PRESET.lr, PRESET.clip, False
        )[1]
    return chars / (time.perf_counter() - start)


def preset_run(
    name: str, epochs: int, embedding: int, device: str, every: int
) -> list[text.EpochRecord]:
    """Train seed003 (with `epochs` epochs) on the corpus; print each evaluated epoch."""
    vocab, train_ids, held_ids = corpus_ids(name)
    cfg = dataclasses.replace(PRESET, epochs=epochs, embedding=embedding, sample_every=every)
    model = text.build_model(cfg, len(vocab), text.torch_core(nn.GRU)).to(device)
    unknown = int((held_ids == 0).sum())
    print(f"held out: {len(held_ids)} characters, {unknown} unknown to the training part (skipped)")
    train_ids, held_ids = train_ids.to(device), held_ids.to(device)

    def show(r: text.EpochRecord) -> None:
        if r.held_out_perplexity is not None:
            print(
                f"epoch {r.epoch}: train perplexity {r.train_perplexity:.2f},"
                f" held-out {r.held_out_perplexity:.2f} ({r.seconds:.1f} s/epoch)",
                flush=True,
            )
            for s in r.samples.values():
                print("   ", s.replace("\n", " / "), flush=True)

    return text.fit(model, vocab, train_ids, held_ids, cfg, (text.CORPORA[name][1],), on_epoch=show)


def speed(args: argparse.Namespace, info: dict) -> None:
    """The interleaved rounds and their table."""
    vocab, ids, _ = corpus_ids(args.corpus, args.max_chars)
    print(f"corpus {args.corpus}: {len(ids)} training characters, {len(vocab)} in the vocabulary")
    gru, fast, width = text.torch_core(nn.GRU), text.kernel_gru_core, args.embedding
    kinds = {
        "baseline": lambda: baseline(len(vocab), ids, args.epochs),
        "nn.GRU one-hot": lambda: ours(len(vocab), ids, args.epochs, 0, gru),
        f"nn.GRU embedding {width}": lambda: ours(len(vocab), ids, args.epochs, width, gru),
        f"kernel embedding {width}": lambda: ours(len(vocab), ids, args.epochs, width, fast),
    }
    if len(vocab) <= 256:  # the kernels multiply the whole one-hot input: for small vocabularies
        kinds["kernel one-hot"] = lambda: ours(len(vocab), ids, args.epochs, 0, fast)
    print("warm-up (thrown away) ...", flush=True)
    for kind in kinds.values():
        kind()
    runs: dict[str, list[float]] = {k: [] for k in kinds}
    for r in range(args.rounds):
        for k in list(kinds) if r % 2 == 0 else list(kinds)[::-1]:
            runs[k].append(kinds[k]())
            print(f"round {r + 1} {k}: {runs[k][-1]:.0f} chars/s (load {load_average()})")

    base = median(runs["baseline"])
    print()
    print(f"{args.rounds} rounds of {args.epochs} epoch(s); medians; load {load_average()} at end")
    print()
    print("| run | characters/s | speed-up (per round) |")
    print("|---|---|---|")
    for k, values in runs.items():
        rounds = median(v / b for v, b in zip(values, runs["baseline"], strict=True))
        print(f"| {k} | {median(values):.0f} | {median(values) / base:.1f}x ({rounds:.1f}x) |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "corpus": args.corpus, "runs": runs}, f, indent=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="tang", choices=list(text.CORPORA))
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each kind")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per measurement")
    parser.add_argument("--max-chars", type=int, default=0, help="the corpus' first N only")
    parser.add_argument("--embedding", type=int, default=64, help="width for `embedding`")
    parser.add_argument("--preset-epochs", type=int, default=0, help="then train seed003")
    parser.add_argument("--preset-embedding", type=int, default=0, help="0: one-hot, as d2l")
    parser.add_argument("--sample-every", type=int, default=0, help="0: the preset's 40")
    parser.add_argument("--device", default="cpu", help="where seed003 trains (cpu, cuda)")
    parser.add_argument("--json", help="also write every measurement to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    kernels.limit_blas_threads(1)

    info = machine()
    print_machine(info)
    if args.rounds:
        speed(args, info)
    if args.preset_epochs:
        print()
        width = args.preset_embedding or "one-hot"
        print(
            f"seed003 on {args.corpus}, {args.preset_epochs} epochs, {width} nn.GRU, {args.device}:"
        )
        every = args.sample_every or PRESET.sample_every
        preset_run(args.corpus, args.preset_epochs, args.preset_embedding, args.device, every)


if __name__ == "__main__":
    main()
