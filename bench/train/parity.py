#!/usr/bin/env python3
"""Do mote and Keras train the same way? Same initial weights, same batches.

Usage: python3 bench/train/parity.py [--task cnn|mlp] [--epochs 3] [--seed 0] [--rows N] [--sgd]

Builds the reference model in Keras (seeded), writes its initial weights as a
float32 .tflite (TensorFlow's converter), trains it in Keras without shuffling
and prints the loss of each epoch; then mote imports the same .tflite and
trains it the same way (`examples/parity.rs`). Equal semantics (Glorot fans,
Adam, loss reduction, padding, batch order) give equal losses up to float
rounding; a semantic difference shows in the first epoch. Needs TensorFlow.
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", choices=["mlp", "cnn"], default="cnn")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=0, help="train on the first ROWS rows only")
    parser.add_argument("--sgd", action="store_true",
                        help="SGD 0.1 instead of Adam 1e-3 (Adam's first steps are about "
                             "lr * sign(gradient), so rounding-level gradient differences "
                             "near zero become whole steps; SGD shows the gradients themselves)")
    args = parser.parse_args()
    layers = keras.layers
    keras.utils.set_random_seed(args.seed)
    if args.task == "mlp":
        model = keras.Sequential([keras.Input((64,)), layers.Dense(32, activation="relu"),
                                  layers.Dense(10, activation="softmax")])
        shape = (-1, 64)
    else:
        model = keras.Sequential([
            keras.Input((8, 8, 1)),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.DepthwiseConv2D(3, padding="same", activation="relu"),
            layers.Conv2D(32, 1, activation="relu"),
            layers.MaxPooling2D(2),
            layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax"),
        ])
        shape = (-1, 8, 8, 1)
    xtr, ytr, _, _ = digits()
    if args.rows:
        xtr, ytr = xtr[:args.rows], ytr[:args.rows]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        (tmp / "initial.tflite").write_bytes(converter.convert())
        np.save(tmp / "x.npy", xtr.astype(np.float32))
        np.save(tmp / "y.npy", ytr)
        optimizer = keras.optimizers.SGD(0.1) if args.sgd else keras.optimizers.Adam(1e-3)
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        keras_losses = model.fit(xtr.reshape(shape), ytr, epochs=args.epochs, batch_size=32,
                                 shuffle=False, verbose=0).history["loss"]
        out = subprocess.run(
            ["cargo", "run", "--quiet", "--release", "-p", "mote-train", "--example", "parity",
             "--", str(tmp / "initial.tflite"), str(tmp / "x.npy"), str(tmp / "y.npy"),
             str(args.epochs), "sgd" if args.sgd else "adam"],
            cwd=ROOT, check=True, capture_output=True, text=True).stdout
    mote_losses = [float(v) for v in out.split()]
    print(f"{args.task}, seed {args.seed}: loss per epoch, no shuffling, same initial weights")
    print("epoch  Keras      mote       relative difference")
    for e, (k, m) in enumerate(zip(keras_losses, mote_losses), 1):
        print(f"{e:>5}  {k:.7f}  {m:.7f}  {abs(k - m) / abs(k):.2e}")


if __name__ == "__main__":
    main()
