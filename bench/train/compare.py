#!/usr/bin/env python3
"""The reference training tasks side by side: mote, Keras, PyTorch.

Usage (from the repository root):
    python3 bench/train/compare.py [--seeds 5] [--skip-mote] [--only mlp|cnn|line]

Tasks (the same data, split and settings everywhere):
  line  the course's first program: Dense(1), SGD 0.01, MSE, 500 epochs on the
        six points of y = 2x - 1; reports predict(10) and ms for the 500 epochs.
  mlp   digits (pixels / 16; test = rows whose index % 5 == 0): 64 -> Dense 32
        relu -> Dense 10 softmax, Adam 1e-3, batch 32, sparse categorical
        cross-entropy, 50 epochs, shuffled.
  cnn   the digits as 8x8x1: Conv2D 16 3x3 same relu -> DepthwiseConv2D 3x3 same
        relu -> Conv2D 32 1x1 relu -> MaxPooling2D 2 -> GlobalAveragePooling2D ->
        Dense 10 softmax; otherwise as mlp, 30 epochs.

Accuracy is on the test rows: mean, min and max over the seeds 0..N-1. Time
is milliseconds per epoch on one thread: for Keras and PyTorch the median of
the per-epoch wall times (Keras' first epoch traces the graph, so the median
leaves it out); for mote the wall time of fit / epochs (there is no warm-up),
and, separately, the CPU time of the training thread (robust to a loaded
machine). Keras and PyTorch run only when importable (`pip install
tensorflow-cpu torch`); a framework that is missing is reported as such, never
replaced by a number. PyTorch initializes like Keras (Glorot-uniform kernels,
zero biases) so that only the frameworks differ.

Data: $MOTE_ASSETS/data/digits.csv.gz, default ../shared/assets beside the
repository root.
"""

import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def assets() -> Path:
    path = Path(os.environ.get("MOTE_ASSETS", ROOT.parent / "shared" / "assets"))
    if not (path / "MANIFEST.md").is_file():
        sys.exit(f"error: shared assets not found at {path} (set MOTE_ASSETS)")
    return path


def digits():
    with gzip.open(assets() / "data" / "digits.csv.gz", "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x, y = table[:, :-1] / 16.0, table[:, -1].astype(np.int64)
    test = np.arange(len(x)) % 5 == 0
    return x[~test], y[~test], x[test], y[test]


LINE_X = np.array([-1, 0, 1, 2, 3, 4], dtype=np.float32).reshape(6, 1)
LINE_Y = np.array([-3, -1, 1, 3, 5, 7], dtype=np.float32).reshape(6, 1)
EPOCHS = {"mlp": 50, "cnn": 30, "line": 500}


# ---------------------------------------------------------------- Keras
def keras_tasks(seeds, only, first=0):
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        import keras
    except ImportError as e:
        return {"error": f"not installed ({e.name})"}
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    layers = keras.layers

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append((time.perf_counter() - self.started) * 1e3)

    def build(task):
        if task == "mlp":
            return keras.Sequential([
                keras.Input((64,)),
                layers.Dense(32, activation="relu"),
                layers.Dense(10, activation="softmax"),
            ])
        return keras.Sequential([
            keras.Input((8, 8, 1)),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.DepthwiseConv2D(3, padding="same", activation="relu"),
            layers.Conv2D(32, 1, activation="relu"),
            layers.MaxPooling2D(2),
            layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax"),
        ])

    results = {}
    if only in (None, "line"):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((1,)), layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mean_squared_error")
        started = time.perf_counter()
        model.fit(LINE_X, LINE_Y, epochs=500, verbose=0)
        took = (time.perf_counter() - started) * 1e3
        predicted = float(model.predict(np.array([[10.0]], np.float32), verbose=0)[0, 0])
        results["line"] = {"predict10": predicted, "ms_total": took}
    xtr, ytr, xte, yte = digits()
    for task in ("mlp", "cnn"):
        if only not in (None, task):
            continue
        shape = (-1, 64) if task == "mlp" else (-1, 8, 8, 1)
        accuracies, times = [], []
        for seed in range(first, first + seeds):
            keras.utils.set_random_seed(seed)
            model = build(task)
            model.compile(optimizer=keras.optimizers.Adam(1e-3),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            timer = EpochTimer()
            model.fit(xtr.reshape(shape), ytr, epochs=EPOCHS[task], batch_size=32,
                      shuffle=True, verbose=0, callbacks=[timer])
            _, accuracy = model.evaluate(xte.reshape(shape), yte, verbose=0)
            accuracies.append(accuracy * 100)
            times.append(statistics.median(timer.times))
        results[task] = {"accuracies": accuracies, "ms": statistics.median(times)}
    results["version"] = f"Keras {keras.__version__} (TensorFlow {tf.__version__})"
    return results


# ---------------------------------------------------------------- PyTorch
def torch_tasks(seeds, only, first=0):
    try:
        import torch
        from torch import nn
    except ImportError as e:
        return {"error": f"not installed ({e.name})"}
    torch.set_num_threads(1)

    def keras_init(module):
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(module.weight)  # fans as Keras computes them
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    class GlobalAverage(nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3))

    def build(task):
        if task == "mlp":
            model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
        else:
            model = nn.Sequential(
                nn.Conv2d(1, 16, 3, padding="same"), nn.ReLU(),
                nn.Conv2d(16, 16, 3, padding="same", groups=16), nn.ReLU(),
                nn.Conv2d(16, 32, 1), nn.ReLU(),
                nn.MaxPool2d(2), GlobalAverage(), nn.Linear(32, 10))
        model.apply(keras_init)
        return model

    def fit(model, x, y, epochs, loss_fn, optimizer, batch, generator):
        times = []
        for _ in range(epochs):
            started = time.perf_counter()
            order = torch.randperm(len(x), generator=generator)
            for start in range(0, len(x), batch):
                rows = order[start:start + batch]
                optimizer.zero_grad()
                loss = loss_fn(model(x[rows]), y[rows])
                loss.backward()
                optimizer.step()
            times.append((time.perf_counter() - started) * 1e3)
        return times

    results = {}
    if only in (None, "line"):
        torch.manual_seed(0)
        model = nn.Linear(1, 1)
        keras_init(model)
        x, y = torch.from_numpy(LINE_X), torch.from_numpy(LINE_Y)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        started = time.perf_counter()
        fit(model, x, y, 500, nn.MSELoss(), optimizer, 32, torch.Generator().manual_seed(0))
        took = (time.perf_counter() - started) * 1e3
        with torch.no_grad():
            predicted = float(model(torch.tensor([[10.0]]))[0, 0])
        results["line"] = {"predict10": predicted, "ms_total": took}
    xtr, ytr, xte, yte = digits()
    for task in ("mlp", "cnn"):
        if only not in (None, task):
            continue
        shape = (-1, 64) if task == "mlp" else (-1, 1, 8, 8)
        x, y = torch.from_numpy(xtr.reshape(shape)), torch.from_numpy(ytr)
        xt, yt = torch.from_numpy(xte.reshape(shape)), torch.from_numpy(yte)
        accuracies, times = [], []
        for seed in range(first, first + seeds):
            torch.manual_seed(seed)
            model = build(task)
            # Adam with Keras' epsilon; CrossEntropyLoss on logits = softmax + CE
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
            epoch_times = fit(model, x, y, EPOCHS[task], nn.CrossEntropyLoss(), optimizer, 32,
                              torch.Generator().manual_seed(seed))
            with torch.no_grad():
                accuracy = (model(xt).argmax(1) == yt).float().mean().item()
            accuracies.append(accuracy * 100)
            times.append(statistics.median(epoch_times))
        results[task] = {"accuracies": accuracies, "ms": statistics.median(times)}
    results["version"] = f"PyTorch {torch.__version__}"
    return results


# ---------------------------------------------------------------- mote
def cargo(args):
    return subprocess.run(["cargo", "run", "--quiet", "--release", "-p", "mote-train", *args],
                          cwd=ROOT, check=True, capture_output=True, text=True).stdout


def mote_tasks(seeds, only):
    results = {}
    if only in (None, "line"):
        out = cargo(["--example", "hello_line"])
        predicted = float(re.search(r"predict\(10\) = (\S+)", out).group(1))
        took = float(re.search(r"500 epochs in (\S+) ms", out).group(1))
        results["line"] = {"predict10": predicted, "ms_total": took}
    for task in ("mlp", "cnn"):
        if only not in (None, task):
            continue
        out = cargo(["--example", "digits_bench", "--", "--seeds", str(seeds), "--only", task])
        rows = [line.split() for line in out.splitlines() if line.startswith(task)]
        per_seed = [r for r in rows if r[1] != "mean"]
        accuracies = [float(r[2]) for r in per_seed]
        wall = statistics.median(float(r[4]) for r in per_seed)
        cpu = statistics.median(float(r[5]) for r in per_seed)
        results[task] = {"accuracies": accuracies, "ms": wall, "cpu_ms": cpu}
    results["version"] = "mote (this repository)"
    return results


def table(all_results, seeds):
    lines = [
        f"| framework | task | test accuracy mean (min-max), {seeds} seeds | ms/epoch (1 thread) |",
        "|---|---|---|---:|",
    ]
    for name, results in all_results.items():
        if "error" in results:
            lines.append(f"| {name} | - | {results['error']} | - |")
            continue
        for task in ("mlp", "cnn"):
            if task not in results:
                continue
            r = results[task]
            acc = r["accuracies"]
            ms = f"{r['ms']:.2f}"
            if "cpu_ms" in r:
                ms += f" (CPU {r['cpu_ms']:.2f})"
            lines.append(f"| {name} | {task} | {statistics.mean(acc):.2f} % "
                         f"({min(acc):.2f}-{max(acc):.2f}) | {ms} |")
        if "line" in results:
            r = results["line"]
            lines.append(f"| {name} | line, 500 epochs | predict(10) = {r['predict10']:.4f} | "
                         f"{r['ms_total']:.1f} ms in all |")
    versions = [f"{n}: {r['version']}" for n, r in all_results.items() if "version" in r]
    return "\n".join(lines) + "\n\n" + "; ".join(versions)


def in_own_process(framework, args):
    """Runs one framework in a child process (TensorFlow and PyTorch loaded
    into one process can abort on conflicting LLVM options)."""
    command = [sys.executable, __file__, "--framework", framework, "--seeds", str(args.seeds)]
    if args.only:
        command += ["--only", args.only]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return {"error": f"failed: {last}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="Keras and PyTorch: seeds FIRST..FIRST+SEEDS-1 (more seeds in parallel runs)")
    parser.add_argument("--only", choices=["mlp", "cnn", "line"])
    parser.add_argument("--skip-mote", action="store_true")
    parser.add_argument("--framework", choices=["keras", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.framework:
        run = keras_tasks if args.framework == "keras" else torch_tasks
        print(json.dumps(run(args.seeds, args.only, args.first_seed)))
        return
    all_results = {}
    if not args.skip_mote:
        all_results["mote"] = mote_tasks(args.seeds, args.only)
    all_results["Keras"] = in_own_process("keras", args)
    all_results["PyTorch"] = in_own_process("torch", args)
    load = os.getloadavg()
    print(table(all_results, args.seeds))
    print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
