#!/bin/sh
# Models firmware/models.txt derives from the shared assets with mote's own
# commands (its $MADE paths). `cargo xtask firmware` runs this as
#   sh firmware/made.sh MOTE OUT_DIR      (MOTE_ASSETS set)
# and every command is deterministic, so the models are the same on every run.
set -eu
mote=$1
out=$2
mkdir -p "$out"
ad="$MOTE_ASSETS/mlperf-tiny/ad"

# ad01: mote's per-channel int8 of the float autoencoder (calibrated on the
# sample's 196 windows), then its filters clustered to 16 values a channel and
# stored as TensorFlow Lite Micro's LUT compression (4-bit indices).
"$mote" data ad01 -o "$out/ad01"
"$mote" quantize "$ad/ad01_fp32.tflite" --calibration "$out/ad01/x.npy" --method percentile \
  -o "$out/ad01_mote_int8.tflite"
"$mote" cluster "$out/ad01_mote_int8.tflite" --clusters 16 -o "$out/ad01_c16.tflite" \
  --lut "$out/ad01_lut16.tflite"
