#!/usr/bin/env bash
# bench-ring.sh: the shm ring part of `make bench` (tools/bench.sh calls it first).
# Runs ringbench: writer frames/s and MB/s with 0, 1 and 8 reader processes, and the
# doorbell-to-reader wake-up latency with 1 and 8 readers; each figure a median of 5 runs.
# Usage: tools/bench-ring.sh BUILD_DIR [ringbench options]
set -eu
build=${1:?usage: tools/bench-ring.sh BUILD_DIR [ringbench options]}
shift
bin="$build/bin/ringbench"
[ -x "$bin" ] || { echo "bench-ring: $bin not built (make O=$build all)" >&2; exit 1; }
echo "== shm frame ring ($(nproc) CPUs, $(uname -r))"
exec "$bin" --runs 5 "$@"
