#!/usr/bin/env bash
# The digits reference tasks (MLP 50 epochs, CNN 30 epochs, Adam 1e-3, batch 32)
# over several seeds: test accuracy and ms per epoch, single thread, release.
# Usage: bench/train/digits.sh [SEEDS]   (assets from $MOTE_ASSETS or ../shared/assets)
set -euo pipefail
cd "$(dirname "$0")/../.."
exec cargo run --quiet --release -p mote-train --example digits_bench -- --seeds "${1:-5}"
