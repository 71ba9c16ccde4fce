#!/usr/bin/env python3
"""Issue 8's PTQ goal on the digits MLP: mote's int8 against TensorFlow's converter
on the *same* float model.

Usage (from the repository root, after `cargo build --release -p mote-cli`):
    python bench/compress/tf_ptq.py [--seeds 5] [--mote target/release/mote]

Needs TensorFlow (`pip install tensorflow` in a scratch virtual environment; not
part of CI). For each seed s, `mote train examples/specs/digits_mlp.toml` (with
`seed = s`) makes the float model; its weights are loaded into the same Keras
model (checked: Keras' outputs equal the float .tflite's within 1e-5), which
`tf.lite.TFLiteConverter` quantizes to int8 with the training rows as its
representative dataset (float input/output, int8 inside: the converter's
default full-integer recipe). `mote quantize` makes mote's int8 of the same
float file, with each range method. All models are scored on the 360 test rows
of `mote data digits` by TensorFlow Lite's interpreter (the same runtime for
every row of the table).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples" / "specs" / "digits_mlp.toml"


def run(args):
    subprocess.run(
        [str(a) for a in args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def interpreter(tf, path):
    it = tf.lite.Interpreter(model_path=str(path))
    it.allocate_tensors()
    return it


def predict(tf, path, x):
    """Float outputs of a model with float or int8 input/output, one row at a time."""
    it = interpreter(tf, path)
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    out = []
    for row in x:
        v = row.reshape(i["shape"]).astype(np.float32)
        if i["dtype"] == np.int8:
            s, z = i["quantization"]
            v = np.clip(np.round(v / s) + z, -128, 127).astype(np.int8)
        it.set_tensor(i["index"], v)
        it.invoke()
        y = it.get_tensor(o["index"]).astype(np.float32)
        if o["dtype"] == np.int8:
            s, z = o["quantization"]
            y = (y - z) * s
        out.append(y.reshape(-1))
    return np.array(out)


def accuracy(tf, path, x, y):
    return 100.0 * float(np.mean(predict(tf, path, x).argmax(1) == y))


def dense_weights(tf, path):
    """[(kernel [in, out], bias [out])] of the float model's FULLY_CONNECTED ops, in order."""
    it = interpreter(tf, path)
    details = {d["index"]: d for d in it.get_tensor_details()}
    layers = []
    for op in it._get_ops_details():
        if op["op_name"] != "FULLY_CONNECTED":
            continue
        w = it.get_tensor(op["inputs"][1])
        b = it.get_tensor(op["inputs"][2])
        assert details[op["inputs"][1]]["dtype"] == np.float32
        layers.append((w.T.copy(), b.copy()))
    return layers


def tf_int8(tf, keras, float_path, x_train, out_path):
    layers = dense_weights(tf, float_path)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    for layer, (w, b) in zip(model.layers, layers):
        layer.set_weights([w, b])
    got = model(x_train[:64]).numpy()
    want = predict(tf, float_path, x_train[:64])
    assert np.abs(got - want).max() < 1e-5, "Keras does not reproduce the float model"

    def representative():
        for row in x_train:
            yield [row.reshape(1, 64).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    out_path.write_bytes(converter.convert())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--mote", default=str(ROOT / "target" / "release" / "mote"))
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    try:
        import tensorflow as tf
        import keras
    except ImportError:
        sys.exit("error: TensorFlow is not installed (pip install tensorflow in a scratch venv)")
    mote = args.mote
    methods = ["minmax", "percentile", "mse"]
    rows = {k: [] for k in ["float", "tf"] + methods}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run([mote, "data", "digits", "-o", tmp / "d"])
        x_train = np.load(tmp / "d" / "x_train.npy")
        x_test = np.load(tmp / "d" / "x_test.npy")
        y_test = np.load(tmp / "d" / "y_test.npy").astype(int).reshape(-1)
        for s in range(args.seeds):
            spec = tmp / f"s{s}.toml"
            spec.write_text(SPEC.read_text().replace("seed = 0", f"seed = {s}"))
            f = tmp / f"f{s}.tflite"
            run([mote, "train", spec, "--x", tmp / "d" / "x_train.npy", "--y", tmp / "d" / "y_train.npy", "-o", f])
            rows["float"].append(accuracy(tf, f, x_test, y_test))
            t = tmp / f"tf{s}.tflite"
            tf_int8(tf, keras, f, x_train, t)
            rows["tf"].append(accuracy(tf, t, x_test, y_test))
            for m in methods:
                q = tmp / f"{m}{s}.tflite"
                run([mote, "quantize", f, "--calibration", tmp / "d" / "x_train.npy", "--method", m, "-o", q])
                rows[m].append(accuracy(tf, q, x_test, y_test))
            print(f"seed {s}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in rows.items()), flush=True)
    names = {
        "float": "float (mote train)",
        "tf": "TFLiteConverter int8 of it",
        "minmax": "mote quantize, min/max",
        "percentile": "mote quantize, percentile",
        "mse": "mote quantize, mse",
    }
    print("\n| model | " + " | ".join(f"seed {s}" for s in range(args.seeds)) + " | mean |")
    print("|---|" + "---:|" * (args.seeds + 1))
    for k, v in rows.items():
        print(f"| {names[k]} | " + " | ".join(f"{a:.2f}" for a in v) + f" | {statistics.mean(v):.2f} % |")


if __name__ == "__main__":
    main()
