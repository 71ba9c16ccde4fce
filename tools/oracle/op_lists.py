#!/usr/bin/env python3
"""Writes crates/mote-conformance/tests/data/op_lists.json: for every .tflite
in the shared assets, the operators TensorFlow Lite lists, in execution order.

The lists come from ai-edge-litert's interpreter (`_get_ops_details()`, with
the default delegates off so no op is folded into a DELEGATE node). Custom ops
appear under their custom name (`SignalWindow`, `ethos-u`). For a model LiteRT
refuses to load (person_detect.tflite: a per-channel bias whose
quantized_dimension is past its rank), the list is read from the file with
tflite-micro's FlatBuffers schema module instead, resolving each op code as
TensorFlow Lite does (max of builtin_code and deprecated_builtin_code); such
entries carry "source": "tflite_micro_schema".

Usage: python tools/oracle/op_lists.py [ASSETS_DIR]
"""

import glob
import json
import os
import sys

from ai_edge_litert.interpreter import Interpreter, OpResolverType
from ai_edge_litert import schema_py_generated as litert_schema
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as micro_schema

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "crates", "mote-conformance", "tests", "data", "op_lists.json")

BUILTIN_NAMES = {v: k for k, v in vars(litert_schema.BuiltinOperator).items()
                 if not k.startswith("_")}


def from_schema(path):
    buf = open(path, "rb").read()
    model = micro_schema.Model.GetRootAs(buf, 0)
    graph = model.Subgraphs(0)
    ops = []
    for i in range(graph.OperatorsLength()):
        code = model.OperatorCodes(graph.Operators(i).OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == litert_schema.BuiltinOperator.CUSTOM:
            ops.append(code.CustomCode().decode())
        else:
            ops.append(BUILTIN_NAMES[builtin])
    return ops


def main():
    assets = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "MOTE_ASSETS", os.path.join(ROOT, "..", "shared", "assets"))
    assets = os.path.abspath(assets)
    result = {}
    for path in sorted(glob.glob(os.path.join(assets, "**", "*.tflite"), recursive=True)):
        key = os.path.relpath(path, assets)
        try:
            interpreter = Interpreter(
                model_path=path,
                experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
            ops = [op["op_name"] for op in interpreter._get_ops_details()]
            result[key] = {"source": "litert", "ops": ops}
        except Exception as e:  # LiteRT refuses the file: read its op codes.
            result[key] = {"source": "tflite_micro_schema", "litert_error": str(e).splitlines()[0][:200],
                           "ops": from_schema(path)}
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %s (%d models)" % (OUT, len(result)))


if __name__ == "__main__":
    main()
