#!/usr/bin/env python3
"""Issue 8's reference table on digits, mote's column, from the mote commands.

Usage (from the repository root, after `cargo build --release -p mote-cli`):
    python3 bench/compress/table.py [--seeds 5] [--mote target/release/mote]

For each seed s (the specs in examples/specs with `seed = s`, the split of
`mote data digits`, scored by `mote eval` on the 360 test rows):

    MLP float            mote train digits_mlp.toml
    MLP PTQ int8         mote quantize (the defaults: min/max, per channel)
    MLP QAT int8         mote qat --epochs 10 --seed s
    MLP pruned p         mote prune --sparsity p --seed s (10 fine-tune epochs)
    CNN float / pruned   the same on digits_cnn.toml (the depthwise kernel pruned too)
    student / distilled  digits_student.toml alone; mote distill from digits_teacher.toml
                         with digits_student_tuned.toml, alpha 0.5, T 4

Prints the per-seed accuracies, the mean and the goal of each row (TF/TF-MOT's
figures are the issue's). TensorFlow's converter on mote's own float MLP is
bench/compress/tf_ptq.py (needs TensorFlow). Python's standard library only.
"""

import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "examples" / "specs"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--mote", default=str(ROOT / "target" / "release" / "mote"))
    args = ap.parse_args()
    rows = {}

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        d = tmp / "d"

        def mote(*a):
            subprocess.run(
                [args.mote, *map(str, a)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        def accuracy(model):
            out = subprocess.run(
                [args.mote, "eval", str(model), "--x", str(d / "x_test.npy"), "--y", str(d / "y_test.npy"), "--json"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            return 100.0 * json.loads(out)["accuracy"]

        def record(name, model):
            rows.setdefault(name, []).append(accuracy(model))

        def spec(name, s):
            path = tmp / f"{name}_{s}.toml"
            path.write_text((SPECS / f"{name}.toml").read_text().replace("seed = 0", f"seed = {s}"))
            return path

        x, y = d / "x_train.npy", d / "y_train.npy"
        mote("data", "digits", "-o", d)
        for s in range(args.seeds):
            m = tmp / f"mlp{s}.tflite"
            mote("train", spec("digits_mlp", s), "--x", x, "--y", y, "-o", m)
            record("MLP float", m)
            mote("quantize", m, "--calibration", x, "-o", tmp / f"ptq{s}.tflite")
            record("MLP PTQ int8", tmp / f"ptq{s}.tflite")
            mote("qat", m, "--x", x, "--y", y, "--epochs", 10, "--seed", s, "-o", tmp / f"qat{s}.tflite")
            record("MLP QAT int8", tmp / f"qat{s}.tflite")
            for p in (50, 80, 90):
                out = tmp / f"mlp{s}_p{p}.tflite"
                mote("prune", m, "--x", x, "--y", y, "--sparsity", p / 100, "--seed", s, "-o", out)
                record(f"MLP pruned {p} %", out)
            c = tmp / f"cnn{s}.tflite"
            mote("train", spec("digits_cnn", s), "--x", x, "--y", y, "-o", c)
            record("CNN float", c)
            for p in (50, 80):
                out = tmp / f"cnn{s}_p{p}.tflite"
                mote("prune", c, "--x", x, "--y", y, "--sparsity", p / 100, "--seed", s, "-o", out)
                record(f"CNN pruned {p} % (depthwise too)", out)
            t = tmp / f"teacher{s}.tflite"
            mote("train", spec("digits_teacher", s), "--x", x, "--y", y, "-o", t)
            alone = tmp / f"alone{s}.tflite"
            mote("train", spec("digits_student", s), "--x", x, "--y", y, "-o", alone)
            record("student 64-16-10 alone", alone)
            dist = tmp / f"distilled{s}.tflite"
            mote(
                "distill", "--teacher", t, "--student", spec("digits_student_tuned", s),
                "--x", x, "--y", y, "--alpha", 0.5, "--temperature", 4, "-o", dist,
            )
            record("student distilled from 64-128-10", dist)
            print(f"seed {s} done", flush=True)

    mean = {k: statistics.mean(v) for k, v in rows.items()}
    goals = {
        "MLP PTQ int8": ("97.1", "≥ float − 0.3", mean["MLP PTQ int8"] >= mean["MLP float"] - 0.3),
        "MLP QAT int8": ("97.1", "≥ PTQ", mean["MLP QAT int8"] >= mean["MLP PTQ int8"]),
        "MLP pruned 50 %": ("96.6", "≥ 96.5", mean["MLP pruned 50 %"] >= 96.5),
        "MLP pruned 80 %": ("92.4", "≥ 95.5", mean["MLP pruned 80 %"] >= 95.5),
        "MLP pruned 90 %": ("78.0", "≥ 93.0", mean["MLP pruned 90 %"] >= 93.0),
        "CNN pruned 50 % (depthwise too)": (
            "85.8",
            "≥ float − 1",
            mean["CNN pruned 50 % (depthwise too)"] >= mean["CNN float"] - 1,
        ),
        "CNN pruned 80 % (depthwise too)": ("47.8", "", None),
        "student 64-16-10 alone": ("95.7", "", None),
        "student distilled from 64-128-10": (
            "95.8",
            "> alone, ≥ 96.0",
            mean["student distilled from 64-128-10"] > mean["student 64-16-10 alone"]
            and mean["student distilled from 64-128-10"] >= 96.0,
        ),
        "MLP float": ("96.9", "", None),
        "CNN float": ("86.6 (Keras)", "", None),
    }
    seeds = range(args.seeds)
    print("\n| model | " + " | ".join(f"seed {s}" for s in seeds) + " | mote mean | Keras/TF-MOT | goal | met |")
    print("|---|" + "---:|" * (args.seeds + 1) + "---:|---|---|")
    for name, values in rows.items():
        tf, goal, met = goals[name]
        flag = "" if met is None else ("yes" if met else "**no**")
        cells = " | ".join(f"{v:.2f}" for v in values)
        print(f"| {name} | {cells} | {mean[name]:.2f} % | {tf} | {goal} | {flag} |")


if __name__ == "__main__":
    main()
