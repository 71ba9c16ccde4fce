#!/usr/bin/env python3
"""Keras' initial weights, mote's training: which side does a gap in accuracy come from?

Usage: python3 bench/train/cross_init.py [--task cnn|mlp] [--seeds 20]

For each seed s, builds the reference model in Keras after
`keras.utils.set_random_seed(s)` (the same draws as `compare.py`), writes the
untrained model as a float32 .tflite, then runs `digits_bench --init-from` on
all of them: mote trains each from Keras' weights with its own shuffling
(seed s) and reports the test accuracy. Its mean against Keras' mean
(`compare.py --framework keras`) and mote's own (`digits_bench`) tells
whether the initial weights or the training make a difference. Needs TensorFlow.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import ROOT  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402


def build(task):
    layers = keras.layers
    if task == "mlp":
        return keras.Sequential([keras.Input((64,)), layers.Dense(32, activation="relu"),
                                 layers.Dense(10, activation="softmax")])
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.DepthwiseConv2D(3, padding="same", activation="relu"),
        layers.Conv2D(32, 1, activation="relu"),
        layers.MaxPooling2D(2),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10, activation="softmax"),
    ])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", choices=["mlp", "cnn"], default="cnn")
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            keras.utils.set_random_seed(seed)
            model = build(args.task)
            converter = tf.lite.TFLiteConverter.from_keras_model(model)
            (Path(tmp) / f"{args.task}_{seed}.tflite").write_bytes(converter.convert())
        out = subprocess.run(
            ["cargo", "run", "--quiet", "--release", "-p", "mote-train", "--example",
             "digits_bench", "--", "--seeds", str(args.seeds), "--only", args.task,
             "--init-from", tmp],
            cwd=ROOT, check=True, capture_output=True, text=True).stdout
    print(f"mote trained from Keras' initial weights ({keras.__version__}):")
    print(out)


if __name__ == "__main__":
    main()
