#!/usr/bin/env python3
"""Issue 8's distillation task with the mote commands, over seeds.

Usage (from the repository root, after `cargo build --release -p mote-cli`):
    python3 bench/distill/digits.py [--seeds 5] [--first-seed 0]
        [--alpha 0.1 ...] [--temperature 4 ...] [--validation] [--mote target/release/mote]

For each seed s: the teacher (examples/specs/digits_teacher.toml, 64 -> 128
relu -> 10) and the student (digits_student.toml, 64 -> 16 relu -> 10), both
with `seed = s`, 50 epochs, Adam 1e-3, batch 32:

    mote train digits_teacher.toml --x X --y Y -o teacher.tflite
    mote train digits_student.toml --x X --y Y -o alone.tflite
    mote distill --teacher teacher.tflite --student digits_student.toml --x X --y Y \
        --alpha A --temperature T -o distilled.tflite
    mote eval M.tflite --x X_EVAL --y Y_EVAL --json

X, Y are the training rows of `mote data digits`, evaluated on its 360 test
rows; with --validation the teacher and both students train on the first 80 %
of the training rows and are scored on the last 20 % (287 rows), so that
settings can be chosen without the test rows. Every (alpha, T) pair is run.
Prints accuracy per seed and the mean (and its standard error) per model;
"distilled - alone" is against the student alone at the spec's learning rate.
Needs numpy (e.g. the oracle's .venv/bin/python).
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "examples" / "specs"


def run(mote, *args):
    out = subprocess.run([mote, *map(str, args)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"error: mote {' '.join(map(str, args))}: {out.stderr.strip()}")
    return out.stdout


def seeded(spec: Path, seed: int, folder: Path, learning_rate=None) -> Path:
    text = spec.read_text()
    assert "\nseed = 0\n" in text and "\nlearning_rate = 0.001\n" in text, spec
    text = text.replace("\nseed = 0\n", f"\nseed = {seed}\n")
    name = f"{spec.stem}_{seed}"
    if learning_rate is not None:
        text = text.replace("\nlearning_rate = 0.001\n", f"\nlearning_rate = {learning_rate!r}\n")
        name += f"_lr{learning_rate:g}"
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def accuracy(mote, model, x, y):
    return 100.0 * json.loads(run(mote, "eval", model, "--x", x, "--y", y, "--json"))["accuracy"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--alpha", type=float, nargs="+", default=[0.1])
    p.add_argument("--temperature", type=float, nargs="+", default=[4.0])
    p.add_argument("--learning-rate", type=float, nargs="+", default=[],
                   help="also each of these student learning rates (the spec's is 0.001): "
                   "every (alpha, T) pair distilled with it, and the student alone with it as a control")
    p.add_argument("--validation", action="store_true")
    p.add_argument("--mote", default=str(ROOT / "target" / "release" / "mote"))
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "d"
        run(args.mote, "data", "digits", "-o", data)
        x, y = data / "x_train.npy", data / "y_train.npy"
        xe, ye = data / "x_test.npy", data / "y_test.npy"
        if args.validation:
            xs, ys = np.load(x), np.load(y)
            cut = int(len(xs) * 0.8)
            for name, a in [("x_fit", xs[:cut]), ("y_fit", ys[:cut]), ("x_val", xs[cut:]), ("y_val", ys[cut:])]:
                np.save(data / f"{name}.npy", a)
            x, y = data / "x_fit.npy", data / "y_fit.npy"
            xe, ye = data / "x_val.npy", data / "y_val.npy"
        rates = [None] + args.learning_rate
        pairs = [(a, t) for a in args.alpha for t in args.temperature]
        lr_name = lambda lr: "" if lr is None else f", lr {lr:g}"
        names = ["teacher"] + [f"alone{lr_name(lr)}" for lr in rates]
        names += [f"alpha {a:g} T {t:g}{lr_name(lr)}" for lr in rates for a, t in pairs]
        table = {n: [] for n in names}
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        for s in seeds:
            teacher_spec = seeded(SPECS / "digits_teacher.toml", s, tmp)
            teacher, alone = tmp / "teacher.tflite", tmp / "alone.tflite"
            run(args.mote, "train", teacher_spec, "--x", x, "--y", y, "-o", teacher, "--verbose", "0")
            table["teacher"].append(accuracy(args.mote, teacher, xe, ye))
            for lr in rates:
                student_spec = seeded(SPECS / "digits_student.toml", s, tmp, lr)
                run(args.mote, "train", student_spec, "--x", x, "--y", y, "-o", alone, "--verbose", "0")
                table[f"alone{lr_name(lr)}"].append(accuracy(args.mote, alone, xe, ye))
                for a, t in pairs:
                    out = tmp / "distilled.tflite"
                    run(args.mote, "distill", "--teacher", teacher, "--student", student_spec, "--x", x, "--y", y,
                        "--alpha", a, "--temperature", t, "-o", out)
                    table[f"alpha {a:g} T {t:g}{lr_name(lr)}"].append(accuracy(args.mote, out, xe, ye))
            print(f"seed {s}: " + ", ".join(f"{n} {v[-1]:.2f}" for n, v in table.items()), file=sys.stderr)

    where = "validation (last 20 % of the training rows)" if args.validation else "test (360 rows)"
    print(f"{where} accuracy %, seeds {seeds.start}-{seeds.stop - 1}")
    shown = list(seeds) if len(seeds) <= 10 else []
    print("| model | " + " | ".join(map(str, shown)) + (" | " if shown else "") + "mean | s.e. | distilled - alone (s.e.) |")
    print("|---|" + "---:|" * (len(shown) + 3))
    for n, v in table.items():
        se = statistics.stdev(v) / math.sqrt(len(v)) if len(v) > 1 else float("nan")
        if not n.startswith("alpha"):
            diff = ""
        else:
            d = [a - b for a, b in zip(v, table["alone"])]
            dse = statistics.stdev(d) / math.sqrt(len(d)) if len(d) > 1 else float("nan")
            diff = f"{statistics.mean(d):+.2f} ({dse:.2f})"
        cells = [f"{a:.2f}" for a in v] if shown else []
        print(f"| {n} | " + " | ".join(cells) + (" | " if cells else "") + f"{statistics.mean(v):.2f} | {se:.2f} | {diff} |")


if __name__ == "__main__":
    main()
