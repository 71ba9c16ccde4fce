#!/usr/bin/env python3
"""Reference values for mote's MLPerf Tiny streaming wake-word (SWW) front-end.

A numpy port of `get_lfbe_func` in mlcommons/tiny
`benchmark/training/streaming_wakeword/get_dataset.py` (the features the
reference model was trained and is evaluated on) and of
`tf.signal.linear_to_mel_weight_matrix` (tensorflow/python/ops/signal/mel_ops.py).
Only numpy is needed.

    python tools/sww_mel_check.py                  # values pasted into crates/mote-audio/src/sww.rs tests
    python tools/sww_mel_check.py --c-table fixed_data.c   # compare with the reference submission's packed table
    python tools/sww_mel_check.py --features a.wav # every frame of a 16-bit WAV (first channel), JSON

The Rust conformance test `crates/mote-conformance/tests/sww.rs` runs the
`--features` mode and compares with mote, frame by frame.
"""
import argparse
import json
import re
import sys
import wave

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 1024  # 64 ms
HOP = 512  # 32 ms
BINS = 40
PREEMPHASIS = 1 - 2**-5
POWER_OFFSET = 52


def hertz_to_mel(f):
    """HTK mel, as TensorFlow's `_hertz_to_mel`: 1127 ln(1 + f / 700)."""
    return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def linear_to_mel_weight_matrix(num_mel_bins=BINS, num_spectrogram_bins=WINDOW // 2 + 1,
                                sample_rate=SAMPLE_RATE, lower_edge_hertz=0.0,
                                upper_edge_hertz=SAMPLE_RATE / 2):
    """[num_spectrogram_bins, num_mel_bins], as TensorFlow builds it (row 0, DC, is zero)."""
    linear = np.linspace(0.0, sample_rate / 2.0, num_spectrogram_bins)[1:]
    spec_mel = hertz_to_mel(linear)[:, None]
    edges = np.linspace(hertz_to_mel(lower_edge_hertz), hertz_to_mel(upper_edge_hertz),
                        num_mel_bins + 2)
    lower, center, upper = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    lower_slopes = (spec_mel - lower) / (center - lower)
    upper_slopes = (upper - spec_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(lower_slopes, upper_slopes))
    return np.pad(weights, [[1, 0], [0, 0]])


def hamming(n=WINDOW):
    """`tf.signal.hamming_window(n, periodic=False)`."""
    return 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(n) / (n - 1))


def lfbe(wav):
    """get_lfbe_func: float samples in [-1, 1) -> [frames, 40] features in [0, 1]."""
    x = np.asarray(wav, dtype=np.float64)
    x = x - PREEMPHASIS * np.concatenate([[0.0], x[:-1]])
    frames = 1 + (len(x) - WINDOW) // HOP
    idx = np.arange(WINDOW)[None, :] + HOP * np.arange(frames)[:, None]
    spec = np.fft.rfft(x[idx] * hamming(), n=WINDOW)
    power = np.abs(spec) ** 2 / WINDOW
    power = np.clip(power, 1e-30, power.max())
    mel = power @ linear_to_mel_weight_matrix()
    log_mel = 10 * np.log10(mel)
    return np.clip((log_mel + POWER_OFFSET - 32 + 32.0) / 64.0, 0, 1)


def read_wav(path):
    with wave.open(path) as w:
        assert w.getsampwidth() == 2 and w.getframerate() == SAMPLE_RATE, path
        s = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return s.reshape(-1, w.getnchannels())[:, 0]


def sine(freq=1000.0, amplitude=16384, n=WINDOW + HOP):
    """The test signal of sww.rs: int16 samples of a sine, rounded half away from zero."""
    v = amplitude * np.sin(2 * np.pi * freq * np.arange(n) / SAMPLE_RATE)
    return (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int16)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--features", metavar="WAV", help="print every frame's features as JSON")
    p.add_argument("--c-table", metavar="FIXED_DATA_C",
                   help="compare with lin2mel_packed_513x40 of the reference submission")
    a = p.parse_args()
    if a.features:
        feats = lfbe(read_wav(a.features) / 2**15)
        json.dump([[float(v) for v in f] for f in feats], sys.stdout)
        return
    m = linear_to_mel_weight_matrix()
    if a.c_table:
        src = open(a.c_table).read()

        def arr(name):
            body = re.search(re.escape(name) + r"\s*\[[^\]]*\]\s*=\s*\{(.*?)\}", src, re.S).group(1)
            return np.array([float(v) for v in body.replace("\n", " ").split(",") if v.strip()])

        packed, starts, lens = arr("lin2mel_packed_513x40"), arr("lin2mel_513x40_filter_starts"), arr("lin2mel_513x40_filter_lens")
        ours = np.concatenate([m[int(s):int(s) + int(n), b] for b, (s, n) in enumerate(zip(starts, lens))])
        nz = [(int(np.nonzero(m[:, b])[0][0]), len(np.nonzero(m[:, b])[0])) for b in range(BINS)]
        print(f"C packed table: {len(packed)} weights; ours {len(ours)}; max |diff| {np.abs(packed - ours).max():.2e}")
        print("C starts/lens equal our non-zero ranges:", nz == list(zip(starts.astype(int), lens.astype(int))))
        return
    print("mel matrix [bin, band] (TensorFlow's construction, float64):")
    for b, band in [(1, 0), (2, 0), (3, 0), (3, 1), (38, 9), (90, 17), (270, 31), (511, 39), (512, 39)]:
        print(f"  m[{b:3}][{band:2}] = {m[b, band]:.7f}")
    nz = [np.nonzero(m[:, b])[0] for b in range(BINS)]
    print("first non-zero bin of bands 0, 1, 20, 39:", [int(nz[b][0]) for b in (0, 1, 20, 39)])
    print("non-zero weights in all:", int(sum(len(z) for z in nz)), " most per band:", max(len(z) for z in nz))
    print("row sums for bins 1, 100, 512:", [round(float(m[b].sum()), 7) for b in (1, 100, 512)])
    s = sine()
    f = lfbe(s / 2**15)
    print(f"features of a 1 kHz sine, amplitude 16384 ({len(s)} samples, {len(f)} frames):")
    for i in range(len(f)):
        print(f"  frame {i}: bands 0, 11, 12, 13, 14, 15, 16, 39 =",
              ", ".join(f"{f[i, b]:.6f}" for b in (0, 11, 12, 13, 14, 15, 16, 39)))
    print("  band of the maximum:", [int(np.argmax(fr)) for fr in f])


if __name__ == "__main__":
    main()
