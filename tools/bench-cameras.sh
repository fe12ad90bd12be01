#!/usr/bin/env bash
# bench-cameras.sh: the "cameras" case of `make bench`: many cameras, few viewers each (the
# workload ringcast replaces MediaMTX on). P paths, each a file: source of the 720p30
# 2 Mbit/s reference clip (2 s GOP) or, with CAM_SOURCE=rtsp, an RTSP pull of that clip from
# a separate ringcast "origin" on CPU 1 (its own process group: not measured); the supervisor,
# its ingests and one worker on CPU 0, in a process group of their own; idle first (no viewer:
# CPU and PSS of that group over CAM_IDLE s), then P x V WHEP viewers from one loadgen on
# CPU 1 (loadgen --paths), then pion-nack of ../shared/bench serving the same number of
# viewers (one stream) in the same run, for the memory comparison.
# Usage: tools/bench-cameras.sh BUILD_DIR
# Then (CAM_SINGLE=1, the default, when P > 1) the same for one path x V viewers, idle
# CAM_SINGLE_IDLE s (10): the CPU per packet the P paths are held to.
# Environment: CAM_P (70), CAM_V (1), CAM_IDLE (30 s), CAM_SECONDS (20 s), CAM_WARMUP (3 s),
#   CAM_SOURCE (file: each path reads the clip; rtsp: each path pulls
#   rtsp://127.0.0.1:8555/bench over TCP from the origin, which plays the clip as a file:),
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
SRC=${CAM_SOURCE:-file}
case $SRC in
file | rtsp) ;;
*) echo "bench-cameras: CAM_SOURCE=$SRC: file or rtsp" >&2; exit 2 ;;
esac

if [ -z "${RC_CAM_IN_NETNS:-}" ]; then
    [ -s "$clip" ] || { echo "bench-cameras: $clip missing (tools/bench.sh makes it)" >&2; exit 1; }
    mkdir -p "$build/bench"
    export CAM_RESULTS=${CAM_RESULTS:-$build/bench/cameras-$(date +%Y%m%d-%H%M%S).jsonl}
    : >"$CAM_RESULTS"
    echo "== cameras: $P paths x $V viewers ($SRC sources of the 2 Mbit/s clip, GOP 2 s$(
        [ "$SRC" = rtsp ] && echo ", pulled over TCP from an origin on CPU 1"));" \
        "ringcast (1 worker) on CPU 0, loadgen on CPU 1"
    unshare --net true 2>/dev/null && ns=(unshare --net) || ns=(unshare -rn)
    timeout --signal=TERM --kill-after=15 $((IDLE + SECS + 210)) "${ns[@]}" -- \
        env RC_CAM_IN_NETNS=1 "$0" "$build"
    anchor=$top/../shared/bench/run-anchor.sh
    if [ "${CAM_ANCHOR:-1}" = 1 ] && [ -x "$anchor" ]; then
        echo "== pion-nack, $((P * V)) viewers of one stream, ${SECS}s"
        line=$(WARMUP=$WARM "$anchor" pion-nack $((P * V)) "$SECS" 2>/dev/null | tail -1) || true
        [ -n "$line" ] && echo "$line" >>"$CAM_RESULTS"
    fi
    # The issue's yardstick for CPU per packet: one path with as many viewers per path, same run.
    single=""
    if [ "${CAM_SINGLE:-1}" = 1 ] && [ "$P" -gt 1 ]; then
        single=${CAM_RESULTS%.jsonl}-single.jsonl
        echo "== one path x $V viewers, the same build (CPU per packet at the same viewers per path)"
        CAM_P=1 CAM_SINGLE=0 CAM_ANCHOR=0 CAM_IDLE=${CAM_SINGLE_IDLE:-10} CAM_RESULTS=$single \
            "$0" "$build" >/dev/null
    fi
    python3 - "$CAM_RESULTS" "$P" "$V" $single <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
P, V = int(sys.argv[2]), int(sys.argv[3])
one = [json.loads(l) for l in open(sys.argv[4]) if l.strip()] if len(sys.argv) > 4 else []
one_load = next((r for r in one if r.get("label") == "load"), None)
rc = {r["label"]: r for r in rows if r.get("label") in ("idle", "load")}
pion = next((r for r in rows if r.get("server") == "pion-nack"), None)
idle, load = rc.get("idle"), rc.get("load")
if idle:
    print("idle (%s sources): %d paths, tree CPU %.2f %% of a core (%.3f %% per path), PSS %.1f MiB (%.2f MiB per path)"
          % (idle.get("source", "file"), idle["paths"], idle["cpu_pct"], idle["cpu_pct"] / idle["paths"], idle["pss_mib"],
             idle["pss_mib"] / idle["paths"]))
def show(name, r):
    print("%-9s %4d viewers: CPU %6.2f %% (%.2f us/pkt), PSS %7.1f MiB, loss %.3f %%"
          % (name, r.get("viewers_connected", r.get("connected", 0)), r["server_cpu_pct"],
             r["server_cpu_us_per_pkt"], r["server_pss_mib"], r["loss_pct"]))
if load:
    show("ringcast", load)
if pion:
    show("pion-nack", pion)
if one_load:
    show("1 path", one_load)
if load and pion:
    print("ringcast PSS / pion-nack PSS = %.2f" % (load["server_pss_mib"] / pion["server_pss_mib"]))
if load and one_load:
    print("CPU per packet, %d paths / 1 path at %d viewer(s) per path = %.2f"
          % (P, V, load["server_cpu_us_per_pkt"] / one_load["server_cpu_us_per_pkt"]))
print("(JSON lines: %s)" % sys.argv[1])
PY
    exit 0
fi

# ------------------------------------------------------------------ inside the namespace
ip link set lo up
run=$(mktemp -d /tmp/rccam-XXXXXX)
prefix="rccam-$$"
oprefix="rccamo-$$"
origin_url=rtsp://127.0.0.1:8555/bench
srv=""
origin=""
# stop PID: TERM, 10 s for the supervisor to stop its children, then KILL.
stop() {
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    [ -z "$srv" ] || stop "$srv"
    [ -z "$origin" ] || stop "$origin"
    rm -f /dev/shm/"$prefix".* /dev/shm/"$oprefix".* 2>/dev/null || true
    rm -rf "$run"
    exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# conf HTTP_PORT SHM_PREFIX SOCKET: the benchmark template with this node's names.
conf() {
    sed -e "s|@HTTP_PORT@|$1|g" -e "s|^shm_prefix = .*|shm_prefix = $2|" \
        -e "s|^control_socket = .*|control_socket = $3|" -e "s|@CLIP@|$clip|" "$top/tools/bench.conf.in"
}

# The ringcast processes run under setsid: each supervisor leads a process group holding only
# its tree (a background job of this script would share the script's group, and so the
# origin's), which is what tree_sample measures.
if [ "$SRC" = rtsp ]; then
    # The origin: its own ports (the measured node keeps the template's, and RTSP on 8554) and
    # one path, "bench", the clip as a file: source, on CPU 1 beside the loadgen. The measured
    # node's P ingests all connect from 127.0.0.1: a trusted proxy, past the 64 per address.
    conf 8890 "$oprefix" "$run/origin.sock" | sed -e "s|^metrics_listen = .*|metrics_listen = 127.0.0.1:9997|" \
        -e "s|^udp_port_base = .*|udp_port_base = 8289\nrtsp_listen = 127.0.0.1:8555\ntrusted_proxies = 127.0.0.1|" >"$run/origin.conf"
    setsid taskset -c 1 "$build/bin/ringcast" -c "$run/origin.conf" >>"$run/origin.log" 2>&1 &
    origin=$!
    # Serving RTSP: DESCRIBE answers 200 once the worker listens and the ingest declared its track.
    describe() {
        python3 -c '
import socket, sys
with socket.create_connection(("127.0.0.1", 8555), timeout=2) as s:
    s.sendall(b"DESCRIBE %s RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n" % sys.argv[1].encode())
    sys.exit(0 if s.recv(64).startswith(b"RTSP/1.0 200") else 1)' "$origin_url" 2>/dev/null
    }
    deadline=$((SECONDS + 30))
    until describe || [ $SECONDS -ge $deadline ]; do kill -0 "$origin" || break; sleep 0.2; done
    describe || {
        echo "bench-cameras: the origin does not serve $origin_url after 30 s" >&2
        tail -20 "$run/origin.log" >&2
        exit 1
    }
fi

{
    conf 8889 "$prefix" "$run/ctl.sock" | sed -e '/^\[path bench\]/,$d'
    # transport = tcp: what auto tries first, stated so that no path can fall back to UDP,
    # whose loss would be the origin's (on the loadgen's CPU), not the measured tree's.
    for i in $(seq 0 $((P - 1))); do
        if [ "$SRC" = rtsp ]; then
            printf '[path cam%d]\nsource = %s\ntransport = tcp\n\n' "$i" "$origin_url"
        else
            printf '[path cam%d]\nsource = file:%s\nfps = 30\n\n' "$i" "$clip"
        fi
    done
} >"$run/ringcast.conf"

setsid taskset -c 0 "$build/bin/ringcast" -c "$run/ringcast.conf" >>"$run/server.log" 2>&1 &
srv=$!
# ready: every path writing (60 frames: an RTSP path writes from its first keyframe on) and the
# worker running; $why says how far it got.
why=""
ready() {
    why=$("$build/bin/ringcastctl" -s "$run/ctl.sock" status --json 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print("no status on the control socket")
    sys.exit(1)
want = int(sys.argv[1])
late = [p["name"] for p in d["paths"] if p.get("frames_written", 0) < 60]
worker = d["workers"][0]["state"] if d["workers"] else "absent"
print("%d of %d paths writing, worker %s%s" % (len(d["paths"]) - len(late), want, worker,
      "; not yet: " + " ".join(late[:8]) + (" ..." if len(late) > 8 else "") if late else ""))
sys.exit(0 if not late and len(d["paths"]) == want and worker == "running" else 1)' "$P")
}
deadline=$((SECONDS + 60))
until ready || [ $SECONDS -ge $deadline ]; do
    kill -0 "$srv" || { echo "bench-cameras: ringcast exited" >&2; tail -20 "$run/server.log" >&2; exit 1; }
    sleep 0.2
done
ready || {
    echo "bench-cameras: not ready after 60 s ($SRC sources): $why" >&2
    tail -20 "$run/server.log" >&2
    exit 1
}
sleep 4 # past the first GOP and its NACK window: the rings have their size
[ "$(ps -o pgid= "$srv" | tr -d ' ')" = "$srv" ] || { echo "bench-cameras: ringcast does not lead its process group" >&2; exit 1; }

# tree_sample: "CPU_TICKS PSS_KIB" of the supervisor's process group (its tree: not the origin).
tree_sample() {
    local ticks=0 pss=0 p s
    for p in $(pgrep -g "$srv"); do
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
print(json.dumps({"label": "idle", "source": sys.argv[7], "paths": int(p), "seconds": round(s1 - s0, 1),
                  "cpu_pct": round((t1 - t0) / hz / (s1 - s0) * 100, 3), "pss_mib": round(pss / 1024, 1)}))' \
    "$t0" "$t1" "$s0" "$s1" "$pss" "$P" "$SRC" | tee -a "$CAM_RESULTS"

taskset -c 1 "$build/bin/loadgen" --url http://127.0.0.1:8889/cam/whep --paths "$P" -n $((P * V)) \
    -w "$WARM" -d "$SECS" --server-pid "$srv" --label load --max-loss 0.5 2>>"$run/loadgen.log" |
    tail -1 | sed -e "s|\"label\":\"load\"|&,\"source\":\"$SRC\"|" | tee -a "$CAM_RESULTS"
