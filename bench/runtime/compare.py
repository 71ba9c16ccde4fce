#!/usr/bin/env python3
"""mote's interpreter against TensorFlow Lite Micro and TensorFlow Lite on the
host, one thread, in the same run: median and minimum microseconds per invoke.

usage: bench/runtime/compare.py [--invokes N] [--mote PATH] [--tract PATH]   (from the repo root)

Needs the oracle venv (./scripts/test makes .venv) and a release `mote`:
  cargo build --release -p mote-cli
The runtime picks its x86-64 kernels at run time (AVX-VNNI, else AVX2, else
portable), so the default build times the best this CPU has.
tract-tflite is timed if its bench binary is built (its own workspace):
  cargo build --release --manifest-path bench/runtime/tract/Cargo.toml
Not part of CI: timings depend on the machine and its load; read the ratios
(all engines run interleaved, model by model, in one run), not the absolute
numbers.
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
    return result["median_us"], result["min_us"], result.get("kernels", "?")


def tract(binary, path, n):
    """(median, min), or the reason tract-tflite cannot run the model."""
    out = subprocess.run([binary, "--invokes", str(n), path], check=True, capture_output=True, text=True)
    result = json.loads(out.stdout)
    if "error" in result:
        return result["error"]
    return result["median_us"], result["min_us"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--invokes", type=int, default=200)
    parser.add_argument("--mote", default="target/release/mote")
    parser.add_argument("--tract", default=os.path.join(os.path.dirname(__file__), "tract/target/release/mote-bench-tract"))
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    has_tract = os.path.exists(args.tract)
    print(f"mote: {args.mote}; tract: {args.tract if has_tract else 'not built'}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(
        "| model | mote | tflite-micro | LiteRT reference | LiteRT built-in | LiteRT + XNNPACK | tract "
        "| mote vs tflite-micro | vs LiteRT built-in | vs XNNPACK | vs tract |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    problems = []
    kernels = set()
    for rel in MODELS:
        path = os.path.join(ASSETS, rel)
        *ours, used = mote(args.mote, path, args.invokes)
        kernels.add(used)
        micro = tflm(path, args.invokes, rng)
        ref = litert(path, args.invokes, rng, "reference")
        builtin = litert(path, args.invokes, rng, "builtin")
        xnn = litert(path, args.invokes, rng, "xnnpack")
        theirs = tract(args.tract, path, args.invokes) if has_tract else None
        name = os.path.basename(rel)
        cell = lambda m: f"{m[0]:.1f} ({m[1]:.1f})"
        if isinstance(theirs, str):
            problems.append(f"tract cannot run {name}: {theirs}")
            tract_cell, tract_ratio = "fails", "-"
        elif theirs is None:
            tract_cell, tract_ratio = "-", "-"
        else:
            tract_cell, tract_ratio = cell(theirs), f"{theirs[0] / ours[0]:.2f}x"
        print(
            f"| {name} | {cell(ours)} | {cell(micro)} | {cell(ref)} | {cell(builtin)} | {cell(xnn)} | {tract_cell} "
            f"| {micro[0] / ours[0]:.1f}x | {builtin[0] / ours[0]:.2f}x | {xnn[0] / ours[0]:.2f}x | {tract_ratio} |"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(f"mote's kernels on this CPU: {', '.join(sorted(kernels))}")
    for p in problems:
        print(p)


if __name__ == "__main__":
    main()
