#!/usr/bin/env python3
"""mote's interpreter against TensorFlow Lite Micro and TensorFlow Lite on the
host, one thread, in the same run: median and minimum microseconds per invoke.

usage: bench/runtime/compare.py [--invokes N] [--mote PATH]   (from the repo root)

Needs the oracle venv (./scripts/test makes .venv) and a release `mote`
(cargo build --release -p mote-cli). Not part of CI: timings depend on the
machine and its load; read the ratios, not the absolute numbers.
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np

ASSETS = os.environ.get("MOTE_ASSETS", os.path.join(os.path.dirname(__file__), "../../../shared/assets"))
MODELS = [
    "mlperf-tiny/kws/kws_ref_model_int8.tflite",
    "mlperf-tiny/vww/vww_96_int8.tflite",
    "mlperf-tiny/ic/resnet8_int8.tflite",
    "mlperf-tiny/ad/ad01_int8.tflite",
]


def timed(invoke, n):
    invoke()  # warm-up
    times = []
    for _ in range(n):
        t = time.perf_counter()
        invoke()
        times.append((time.perf_counter() - t) * 1e6)
    return float(np.median(times)), float(np.min(times))


def random_input(detail, rng):
    info = np.iinfo(detail["dtype"])
    return rng.integers(info.min, info.max + 1, size=detail["shape"], dtype=detail["dtype"])


def tflm(path, n, rng):
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_file(path)
    detail = interp.get_input_details(0)
    x = random_input(detail, rng)

    def invoke():
        interp.set_input(x, 0)
        interp.invoke()

    return timed(invoke, n)


def litert(path, n, rng, kind):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kinds = {
        "builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        "xnnpack": OpResolverType.AUTO,
        "reference": OpResolverType.BUILTIN_REF,
    }
    interp = Interpreter(model_path=path, experimental_op_resolver_type=kinds[kind], num_threads=1)
    interp.allocate_tensors()
    detail = interp.get_input_details()[0]
    x = random_input(detail, rng)

    def invoke():
        interp.set_tensor(detail["index"], x)
        interp.invoke()

    return timed(invoke, n)


def mote(binary, path, n):
    out = subprocess.run([binary, "bench", "--json", "--invokes", str(n), path], check=True, capture_output=True, text=True)
    result = json.loads(out.stdout)
    return result["median_us"], result["min_us"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--invokes", type=int, default=200)
    parser.add_argument("--mote", default="target/release/mote")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print("| model | mote | tflite-micro | LiteRT reference | LiteRT built-in | LiteRT + XNNPACK | mote vs tflite-micro | mote vs LiteRT built-in |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for rel in MODELS:
        path = os.path.join(ASSETS, rel)
        ours = mote(args.mote, path, args.invokes)
        micro = tflm(path, args.invokes, rng)
        ref = litert(path, args.invokes, rng, "reference")
        builtin = litert(path, args.invokes, rng, "builtin")
        xnn = litert(path, args.invokes, rng, "xnnpack")
        cell = lambda m: f"{m[0]:.1f} ({m[1]:.1f})"
        print(
            f"| {os.path.basename(rel)} | {cell(ours)} | {cell(micro)} | {cell(ref)} | {cell(builtin)} | {cell(xnn)} "
            f"| {micro[0] / ours[0]:.1f}x | {builtin[0] / ours[0]:.2f}x |"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
