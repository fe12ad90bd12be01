#!/usr/bin/env bash
# bench-cameras.sh: the "cameras" case of `make bench`: many cameras, few viewers each (the
# workload ringcast replaces MediaMTX on). P paths, each a file: source of the 720p30
# 2 Mbit/s reference clip (2 s GOP), the supervisor, its ingests and one worker on CPU 0; idle
# first (no viewer: CPU and PSS of the whole tree over CAM_IDLE s), then P x V WHEP viewers
# from one loadgen on CPU 1 (loadgen --paths), then pion-nack of ../shared/bench serving the
# same number of viewers (one stream) in the same run, for the memory comparison.
# Usage: tools/bench-cameras.sh BUILD_DIR
# Environment: CAM_P (70), CAM_V (1), CAM_IDLE (30 s), CAM_SECONDS (20 s), CAM_WARMUP (3 s),
#   CAM_ANCHOR (1: also pion-nack when ../shared/bench/run-anchor.sh is there; 0: skip),
#   CAM_RESULTS (BUILD_DIR/bench/cameras-TIME.jsonl), BENCH_WORK (/tmp/ringcast-bench: the
#   clip bench.sh makes).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: tools/bench-cameras.sh BUILD_DIR}" && pwd)
P=${CAM_P:-70}
V=${CAM_V:-1}
IDLE=${CAM_IDLE:-30}
SECS=${CAM_SECONDS:-20}
WARM=${CAM_WARMUP:-3}
W=${BENCH_WORK:-/tmp/ringcast-bench}
clip=$W/media/src.h264

if [ -z "${RC_CAM_IN_NETNS:-}" ]; then
    [ -s "$clip" ] || { echo "bench-cameras: $clip missing (tools/bench.sh makes it)" >&2; exit 1; }
    mkdir -p "$build/bench"
    export CAM_RESULTS=${CAM_RESULTS:-$build/bench/cameras-$(date +%Y%m%d-%H%M%S).jsonl}
    : >"$CAM_RESULTS"
    echo "== cameras: $P paths x $V viewers (file: sources of the 2 Mbit/s clip, GOP 2 s);" \
        "ringcast (1 worker) on CPU 0, loadgen on CPU 1"
    unshare --net true 2>/dev/null && ns=(unshare --net) || ns=(unshare -rn)
    timeout --signal=TERM --kill-after=15 $((IDLE + SECS + 180)) "${ns[@]}" -- \
        env RC_CAM_IN_NETNS=1 "$0" "$build"
    anchor=$top/../shared/bench/run-anchor.sh
    if [ "${CAM_ANCHOR:-1}" = 1 ] && [ -x "$anchor" ]; then
        echo "== pion-nack, $((P * V)) viewers of one stream, ${SECS}s"
        line=$(WARMUP=$WARM "$anchor" pion-nack $((P * V)) "$SECS" 2>/dev/null | tail -1) || true
        [ -n "$line" ] && echo "$line" >>"$CAM_RESULTS"
    fi
    python3 - "$CAM_RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rc = {r["label"]: r for r in rows if r.get("label") in ("idle", "load")}
pion = next((r for r in rows if r.get("server") == "pion-nack"), None)
idle, load = rc.get("idle"), rc.get("load")
if idle:
    print("idle: %d paths, tree CPU %.2f %% of a core (%.3f %% per path), PSS %.1f MiB (%.2f MiB per path)"
          % (idle["paths"], idle["cpu_pct"], idle["cpu_pct"] / idle["paths"], idle["pss_mib"],
             idle["pss_mib"] / idle["paths"]))
def show(name, r):
    print("%-9s %4d viewers: CPU %6.2f %% (%.2f us/pkt), PSS %7.1f MiB, loss %.3f %%"
          % (name, r.get("viewers_connected", r.get("connected", 0)), r["server_cpu_pct"],
             r["server_cpu_us_per_pkt"], r["server_pss_mib"], r["loss_pct"]))
if load:
    show("ringcast", load)
if pion:
    show("pion-nack", pion)
if load and pion:
    print("ringcast PSS / pion-nack PSS = %.2f" % (load["server_pss_mib"] / pion["server_pss_mib"]))
print("(JSON lines: %s)" % sys.argv[1])
PY
    exit 0
fi

# ------------------------------------------------------------------ inside the namespace
ip link set lo up
run=$(mktemp -d /tmp/rccam-XXXXXX)
prefix="rccam-$$"
srv=""
cleanup() {
    local rc=$?
    if [ -n "$srv" ]; then
        kill -TERM "$srv" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$srv" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$srv" 2>/dev/null || true
        wait "$srv" 2>/dev/null || true
    fi
    rm -f /dev/shm/"$prefix".* 2>/dev/null || true
    rm -rf "$run"
    exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

{
    sed -e "s|@HTTP_PORT@|8889|g" -e "s|^shm_prefix = .*|shm_prefix = $prefix|" \
        -e "s|^control_socket = .*|control_socket = $run/ctl.sock|" -e '/^\[path bench\]/,$d' \
        "$top/tools/bench.conf.in"
    for i in $(seq 0 $((P - 1))); do printf '[path cam%d]\nsource = file:%s\nfps = 30\n\n' "$i" "$clip"; done
} >"$run/ringcast.conf"

taskset -c 0 "$build/bin/ringcast" -c "$run/ringcast.conf" >>"$run/server.log" 2>&1 &
srv=$!
ready() {
    "$build/bin/ringcastctl" -s "$run/ctl.sock" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
ok = all(p["frames_written"] >= 60 for p in d["paths"]) and len(d["paths"]) == int(sys.argv[1])
sys.exit(0 if ok and d["workers"][0]["state"] == "running" else 1)' "$P" 2>/dev/null
}
for _ in $(seq 300); do ready && break; kill -0 "$srv" || exit 1; sleep 0.2; done
ready || { echo "bench-cameras: not ready" >&2; tail -20 "$run/server.log" >&2; exit 1; }
sleep 4 # past the first GOP and its NACK window: the rings have their size

# tree_sample: "CPU_TICKS PSS_KIB" of the supervisor's process group.
tree_sample() {
    local ticks=0 pss=0 p s
    for p in $(pgrep -g "$(ps -o pgid= "$srv" | tr -d ' ')"); do
        s=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
        ticks=$((ticks + s))
        pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
    done
    echo "$ticks $pss"
}
read -r t0 _ < <(tree_sample)
s0=$(date +%s.%N)
sleep "$IDLE"
read -r t1 pss < <(tree_sample)
s1=$(date +%s.%N)
python3 -c '
import json, os, sys
t0, t1, s0, s1, pss, p = map(float, sys.argv[1:7])
hz = os.sysconf("SC_CLK_TCK")
print(json.dumps({"label": "idle", "paths": int(p), "seconds": round(s1 - s0, 1),
                  "cpu_pct": round((t1 - t0) / hz / (s1 - s0) * 100, 3), "pss_mib": round(pss / 1024, 1)}))' \
    "$t0" "$t1" "$s0" "$s1" "$pss" "$P" | tee -a "$CAM_RESULTS"

taskset -c 1 "$build/bin/loadgen" --url http://127.0.0.1:8889/cam/whep --paths "$P" -n $((P * V)) \
    -w "$WARM" -d "$SECS" --server-pid "$srv" --label load --max-loss 0.5 2>>"$run/loadgen.log" |
    tail -1 | tee -a "$CAM_RESULTS"
