#!/usr/bin/env python3
"""Do mote and Keras train the same way? Same initial weights, same batches.

Usage: python3 bench/train/parity.py [--task cnn|mlp] [--epochs 3] [--seed 0] [--rows N] [--sgd]
       python3 bench/train/parity.py --task cnn --epochs 30 --seeds 40

Builds the reference model in Keras (seeded), writes its initial weights as a
float32 .tflite (TensorFlow's converter), trains it in Keras without shuffling
and prints the loss of each epoch; then mote imports the same .tflite and
trains it the same way (`examples/parity.rs`). Equal semantics (Glorot fans,
Adam, loss reduction, padding, batch order) give equal losses up to float
rounding; a semantic difference shows in the first epoch. With --seeds N it
does so for seeds SEED..SEED+N-1 and compares the test accuracies after
training, seed by seed: both frameworks start from the same weights and see
the same batches, so the paired difference measures the training arithmetic
alone. Needs TensorFlow.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import ROOT, digits  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402


def build(task):
    layers = keras.layers
    if task == "mlp":
        return keras.Sequential([keras.Input((64,)), layers.Dense(32, activation="relu"),
                                 layers.Dense(10, activation="softmax")]), (-1, 64)
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.DepthwiseConv2D(3, padding="same", activation="relu"),
        layers.Conv2D(32, 1, activation="relu"),
        layers.MaxPooling2D(2),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10, activation="softmax"),
    ]), (-1, 8, 8, 1)


def run(args, seed, data):
    """Keras' and mote's loss per epoch and test accuracy from seed's weights."""
    xtr, ytr, xte, yte = data
    keras.utils.set_random_seed(seed)
    model, shape = build(args.task)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        (tmp / "initial.tflite").write_bytes(converter.convert())
        for name, array in (("x", xtr.astype(np.float32)), ("y", ytr),
                            ("tx", xte.astype(np.float32)), ("ty", yte)):
            np.save(tmp / f"{name}.npy", array)
        optimizer = keras.optimizers.SGD(0.1) if args.sgd else keras.optimizers.Adam(1e-3)
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        keras_losses = model.fit(xtr.reshape(shape), ytr, epochs=args.epochs, batch_size=32,
                                 shuffle=False, verbose=0).history["loss"]
        keras_accuracy = model.evaluate(xte.reshape(shape), yte, verbose=0)[1] * 100
        out = subprocess.run(
            ["cargo", "run", "--quiet", "--release", "-p", "mote-train", "--example", "parity",
             "--", str(tmp / "initial.tflite"), str(tmp / "x.npy"), str(tmp / "y.npy"),
             str(args.epochs), "sgd" if args.sgd else "adam",
             str(tmp / "tx.npy"), str(tmp / "ty.npy")],
            cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    mote_accuracy = float(out[-1])
    mote_losses = [float(v) for v in out[:-2]]
    return keras_losses, mote_losses, keras_accuracy, mote_accuracy


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", choices=["mlp", "cnn"], default="cnn")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1,
                        help="seeds SEED..SEED+N-1; more than one prints accuracies only")
    parser.add_argument("--rows", type=int, default=0, help="train on the first ROWS rows only")
    parser.add_argument("--sgd", action="store_true",
                        help="SGD 0.1 instead of Adam 1e-3 (Adam's first steps are about "
                             "lr * sign(gradient), so rounding-level gradient differences "
                             "near zero become whole steps; SGD shows the gradients themselves)")
    args = parser.parse_args()
    xtr, ytr, xte, yte = digits()
    if args.rows:
        xtr, ytr = xtr[:args.rows], ytr[:args.rows]
    data = (xtr, ytr, xte, yte)
    if args.seeds == 1:
        keras_losses, mote_losses, ka, ma = run(args, args.seed, data)
        print(f"{args.task}, seed {args.seed}: loss per epoch, no shuffling, same initial weights")
        print("epoch  Keras      mote       relative difference")
        for e, (k, m) in enumerate(zip(keras_losses, mote_losses), 1):
            print(f"{e:>5}  {k:.7f}  {m:.7f}  {abs(k - m) / abs(k):.2e}")
        print(f"test accuracy: Keras {ka:.2f} %, mote {ma:.2f} %")
        return
    print(f"{args.task}, {args.epochs} epochs, no shuffling, same initial weights per seed")
    print("seed  Keras %   mote %")
    pairs = []
    for seed in range(args.seed, args.seed + args.seeds):
        _, _, ka, ma = run(args, seed, data)
        pairs.append((ka, ma))
        print(f"{seed:>4}  {ka:7.2f}  {ma:7.2f}", flush=True)
    n = len(pairs)
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    diffs = [k - m for k, m in pairs]
    sd = (sum((d - mean(diffs)) ** 2 for d in diffs) / (n - 1)) ** 0.5
    print(f"mean  {mean([k for k, _ in pairs]):7.2f}  {mean([m for _, m in pairs]):7.2f}"
          f"  (Keras - mote {mean(diffs):+.2f}, standard error {sd / n ** 0.5:.2f}, {n} seeds)")


if __name__ == "__main__":
    main()
