#!/usr/bin/env python3
"""Runs .tflite models in TensorFlow Lite Micro or TensorFlow Lite, for mote's
conformance tests. One process serves a whole batch of cases.

usage: run.py BATCH.json

BATCH.json: {"engine": "tflm" | "litert" | "litert_ref",
             "cases": [{"model": PATH, "steps": [[IN.npy, ...], ...], "out": PREFIX,
                        "outputs": N}]}
Each step sets every input and invokes once, on one interpreter per case (so
stateful models keep their state across steps). Output o of step s is written
to PREFIX.s.o.npy. Writes BATCH.json.result: [{"ok": bool, "error": str,
"arena_used": int|null}] in case order.
"""
import json
import sys

import numpy as np


def make_tflm(path):
    from tflite_micro.python.tflite_micro import runtime

    with open(path, "rb") as f:
        data = f.read()
    interp = runtime.Interpreter.from_bytes(data, arena_size=max(len(data) * 10, 16 << 20))

    class Tflm:
        def set(self, i, x):
            interp.set_input(x, i)

        def invoke(self):
            interp.invoke()

        def outputs(self, count):
            return [interp.get_output(o) for o in range(count)]

        def arena(self):
            try:
                return int(interp.arena_used_bytes())
            except Exception:
                return None

    return Tflm()


def make_litert(path, reference):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kind = OpResolverType.BUILTIN_REF if reference else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interp = Interpreter(model_path=path, experimental_op_resolver_type=kind, num_threads=1)
    interp.allocate_tensors()
    ins, outs = interp.get_input_details(), interp.get_output_details()

    class Litert:
        def set(self, i, x):
            interp.set_tensor(ins[i]["index"], x)

        def invoke(self):
            interp.invoke()

        def outputs(self, count):
            return [interp.get_tensor(d["index"]) for d in outs[:count]]

        def arena(self):
            return None

    return Litert()


def main():
    batch_path = sys.argv[1]
    batch = json.load(open(batch_path))
    engine = batch["engine"]
    results = []
    for case in batch["cases"]:
        try:
            if engine == "tflm":
                interp = make_tflm(case["model"])
            else:
                interp = make_litert(case["model"], engine == "litert_ref")
            for s, step in enumerate(case["steps"]):
                for i, path in enumerate(step):
                    interp.set(i, np.load(path))
                interp.invoke()
                for o, y in enumerate(interp.outputs(case["outputs"])):
                    np.save(f"{case['out']}.{s}.{o}.npy", np.ascontiguousarray(y))
            results.append({"ok": True, "error": "", "arena_used": interp.arena()})
        except Exception as e:  # reported per case; the Rust side decides
            results.append({"ok": False, "error": f"{type(e).__name__}: {e}", "arena_used": None})
    json.dump(results, open(batch_path + ".result", "w"))


if __name__ == "__main__":
    main()
