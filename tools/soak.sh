#!/usr/bin/env bash
# soak.sh: a long run at constant load. The supervisor (one worker) on CPU 0 and N loadgen
# viewers of the 720p30 2 Mbit/s reference clip on CPU 1, in a private network namespace, for
# SOAK_SECONDS; every SOAK_SAMPLE seconds one line with the PSS of the ringcast processes,
# the worker's heap (RssAnon), its viewers and its counters, so that growth shows; at the end
# the load generator's JSON line (loss, recovered, stalled viewers).
# Usage: tools/soak.sh BUILD_DIR
# Environment: SOAK_N (1000), SOAK_SECONDS (3600), SOAK_SAMPLE (60), SOAK_DROP (0),
#   SOAK_DECRYPT_EVERY (40), BENCH_WORK (/tmp/ringcast-bench: the clip bench.sh makes),
#   SOAK_OUT (BUILD_DIR/bench/soak-TIME.log).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: tools/soak.sh BUILD_DIR}" && pwd)
N=${SOAK_N:-1000}
SECONDS_RUN=${SOAK_SECONDS:-3600}
SAMPLE=${SOAK_SAMPLE:-60}
clip=${BENCH_WORK:-/tmp/ringcast-bench}/media/src.h264
[ -s "$clip" ] || { echo "soak: $clip missing (make bench makes it)" >&2; exit 1; }

if [ -z "${RC_SOAK_IN_NETNS:-}" ]; then
    mkdir -p "$build/bench"
    out=${SOAK_OUT:-$build/bench/soak-$(date +%Y%m%d-%H%M%S).log}
    echo "soak: N=$N for ${SECONDS_RUN}s, samples every ${SAMPLE}s -> $out"
    unshare --net true 2>/dev/null && ns=(unshare --net) || ns=(unshare -rn)
    exec "${ns[@]}" env RC_SOAK_IN_NETNS=1 "$0" "$build" > >(tee "$out") 2>&1
fi

ip link set lo up
run=$(mktemp -d /tmp/rcsoak-XXXXXX)
sed -e "s|@CLIP@|$clip|" -e "s|@HTTP_PORT@|8889|" \
    -e "s|/tmp/rcbench-anchor.sock|$run/ctl.sock|" -e "s|rcbench-anchor|rcsoak-$$|" \
    "$top/tools/bench.conf.in" >"$run/ringcast.conf"
# Under setsid the supervisor leads a process group of its own tree only (a background job of
# this script would share the script's group with this shell, tee and the loadgen).
setsid taskset -c 0 "$build/bin/ringcast" -c "$run/ringcast.conf" 2>"$run/server.log" &
srv=$!
lg=
trap 'kill $lg $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$run"' EXIT
for _ in $(seq 100); do
    curl -sf http://127.0.0.1:8889/v1/status >/dev/null 2>&1 && break
    sleep 0.1
done
sample() {
    local pss=0 anon=0 p
    for p in $(pgrep -g "$srv" 2>/dev/null || echo $srv); do
        pss=$((pss + $(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup 2>/dev/null || echo 0)))
    done
    p=$(pgrep -g "$srv" -f "ringcast-egress .*--index 0" | head -1 || true)
    [ -z "$p" ] || anon=$(awk '/^RssAnon:/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)
    curl -s http://127.0.0.1:8889/v1/status | python3 -c '
import json, sys
w = json.load(sys.stdin)["workers"][0]
print(" ".join("%s=%s" % (k, w.get(k)) for k in ("viewers", "pkts_sent", "retransmits",
      "nack_refused", "send_drops", "rx_unknown", "ring_laps")))' | sed "s/^/t=${1}s pss_kib=$pss worker_anon_kib=$anon /"
}
taskset -c 1 "$build/bin/loadgen" --url http://127.0.0.1:8889/bench/whep -n "$N" -w 5 \
    -d "$SECONDS_RUN" --gro --decrypt-every "${SOAK_DECRYPT_EVERY:-40}" --drop "${SOAK_DROP:-0}" \
    --server-pid "$srv" --max-run $((SECONDS_RUN + 600)) >"$run/loadgen.json" 2>"$run/loadgen.log" &
lg=$!
t0=$SECONDS
while kill -0 $lg 2>/dev/null; do
    sleep "$SAMPLE"
    if kill -0 $lg 2>/dev/null; then sample $((SECONDS - t0)) || echo "soak: sample failed"; fi
done
wait $lg || echo "soak: loadgen exited $?"
sample $((SECONDS - t0))
cat "$run/loadgen.json"
