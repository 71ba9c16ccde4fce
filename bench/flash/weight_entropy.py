"""How small a model's int8 weights can get without changing a bit of them.

For each .tflite given, prints the bytes of its int8 constant tensors, their
order-0 entropy (bits per byte over all of them), the size that entropy
allows, and what lzma (preset 9, extreme) and zlib (level 9) make of them:
the floor under any lossless weight compression in generated code (issue 9).

    python -m venv /tmp/v && /tmp/v/bin/pip install tflite numpy
    /tmp/v/bin/python bench/flash/weight_entropy.py ../shared/assets/mlperf-tiny/ad/ad01_int8.tflite
"""

import lzma
import sys
import zlib

import numpy as np
import tflite

INT8 = 9  # tflite.TensorType.INT8


def int8_weights(path):
    data = open(path, "rb").read()
    model = tflite.Model.GetRootAsModel(data, 0)
    graph = model.Subgraphs(0)
    parts = []
    for t in range(graph.TensorsLength()):
        tensor = graph.Tensors(t)
        buffer = model.Buffers(tensor.Buffer())
        if tensor.Type() == INT8 and buffer.DataLength() > 0:
            parts.append(buffer.DataAsNumpy().tobytes())
    return b"".join(parts)


def main(paths):
    for path in paths:
        weights = int8_weights(path)
        counts = np.bincount(np.frombuffer(weights, dtype=np.uint8), minlength=256)
        p = counts[counts > 0] / len(weights)
        bits = float(-(p * np.log2(p)).sum())
        print(
            f"{path}: {len(weights)} int8 weight bytes, {bits:.3f} bits/byte, "
            f"order-0 floor {int(len(weights) * bits / 8)}, "
            f"lzma {len(lzma.compress(weights, preset=9 | lzma.PRESET_EXTREME))}, "
            f"zlib {len(zlib.compress(weights, 9))}"
        )


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: weight_entropy.py MODEL.tflite [...]")
    main(sys.argv[1:])
