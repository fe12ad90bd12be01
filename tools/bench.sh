#!/usr/bin/env bash
# bench.sh: `make bench`. The ring microbenchmark (tools/bench-ring.sh), then the fan-out
# benchmark: the ringcast supervisor (one worker) and its ingest pinned to CPU 0, the load
# generator on CPU 1, N viewers of the 720p30 2 Mbit/s reference clip for each N in
# $BENCH_N, stopping after the first N with > 0.5 % loss, media slower than real time (the
# server's core saturated) or a saturated client. Each N is
# measured without loss and with $BENCH_DROP % deliberate loss (NACKed, retransmitted).
# Then the ICE-TCP case: $BENCH_TCP_N viewers over ICE-TCP (loadgen --tcp: RFC 6544 passive
# candidate, RFC 4571 frames) next to the same N over UDP, each on a fresh server.
# A run where any viewer gets less than 95 % of the stream (its media time per wall time)
# is not clean (loadgen's ok), like loss or a saturated client.
# Results: JSON lines in $BENCH_RESULTS, then a table (tools/bench_table.py).
# Usage: tools/bench.sh BUILD_DIR
# Environment: BENCH_N ("100 500 1000 2000 2500 3000 4000"; empty: the ICE-TCP case only), BENCH_SECONDS (10), BENCH_WARMUP (3),
#   BENCH_DROP (5), BENCH_CONC (16), BENCH_TCP_N (200; 0: no ICE-TCP case), BENCH_RESULTS (BUILD_DIR/bench/fanout-TIME.jsonl),
#   BENCH_WORK (/tmp/ringcast-bench: the shared clip), BENCH_SKIP_RING=1, BENCH_BUDGET (900 s),
#   BENCH_DECRYPT_EVERY (auto: every packet up to N=500, then 1 wakeup in N/25, i.e. each
#   viewer unprotects about one frame a second, so that the one client core keeps up:
#   libsrtp2 on NSS costs it tens of microseconds a packet with thousands of streams; loss
#   is still counted on every packet's header),
#   BENCH_GRO (1: the load generator's sockets use UDP_GRO, so a viewer's GSO batch reaches
#   it whole, as it would cross a real network, instead of the server's CPU segmenting it
#   for the client on loopback; each N then gets one more clean run without it, "plain",
#   the way the reference servers of make bench-compare are measured; 0: plain runs only).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: tools/bench.sh BUILD_DIR}" && pwd)
BENCH_N=${BENCH_N-"100 500 1000 2000 2500 3000 4000"}
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_WARMUP=${BENCH_WARMUP:-3}
BENCH_DROP=${BENCH_DROP:-5}
BENCH_CONC=${BENCH_CONC:-16}
BENCH_BUDGET=${BENCH_BUDGET:-900}
BENCH_DECRYPT_EVERY=${BENCH_DECRYPT_EVERY:-auto}
BENCH_GRO=${BENCH_GRO:-1}
BENCH_TCP_N=${BENCH_TCP_N:-200}
W=${BENCH_WORK:-/tmp/ringcast-bench}

if [ -z "${RC_BENCH_IN_NETNS:-}" ]; then
    for p in ringcast ringcastctl loadgen; do
        [ -x "$build/bin/$p" ] || { echo "bench: $build/bin/$p not built (make O=$build all)" >&2; exit 1; }
    done
    [ "$(nproc --all)" -ge 2 ] || { echo "bench: needs 2 CPUs (server on 0, client on 1)" >&2; exit 1; }
    if [ -z "${BENCH_SKIP_RING:-}" ]; then
        "$top/tools/bench-ring.sh" "$build"
        echo
    fi
    # The reference clip of ../shared/bench (same bytes as the anchors), Annex-B.
    clip="$W/media/src.h264"
    if [ ! -s "$clip" ]; then
        mkdir -p "$W/media"
        if [ -s "$W/media/src.ts" ]; then
            ffmpeg -hide_banner -loglevel error -nostdin -y -i "$W/media/src.ts" -map 0:v:0 -c copy \
                -bsf:v h264_mp4toannexb,filter_units=remove_types=9 -f h264 "$clip.tmp"
        else
            echo "bench: encoding the reference clip (60 s 720p30, ~2 Mbit/s; once)" >&2
            ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i testsrc2=size=1280x720:rate=30 \
                -t 60 -an -c:v libx264 -threads 1 -preset veryfast -profile:v baseline -level:v 3.1 \
                -pix_fmt yuv420p -b:v 2M -maxrate 2M -bufsize 2M -g 60 -keyint_min 60 -sc_threshold 0 \
                -bf 0 -x264-params repeat-headers=1 -f h264 "$clip.tmp"
        fi
        mv "$clip.tmp" "$clip"
    fi
    mkdir -p "$build/bench"
    export BENCH_RESULTS=${BENCH_RESULTS:-$build/bench/fanout-$(date +%Y%m%d-%H%M%S).jsonl}
    : >"$BENCH_RESULTS"
    echo "== fan-out: ringcast (1 worker) on CPU 0, loadgen on CPU 1; N = $BENCH_N;" \
        "${BENCH_SECONDS}s windows; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
    # A private network namespace: only loopback, ports cannot clash with anything else.
    # root: a plain network namespace; otherwise a user namespace that maps us to root.
    unshare --net true 2>/dev/null && ns=(unshare --net) || ns=(unshare -rn)
    rc=0
    timeout --signal=TERM --kill-after=15 "$BENCH_BUDGET" "${ns[@]}" -- \
        env RC_BENCH_IN_NETNS=1 RC_BENCH_CLIP="$clip" "$0" "$build" || rc=$?
    [ $rc -eq 124 ] && echo "bench: time budget of ${BENCH_BUDGET}s reached; table of what ran:" >&2
    echo
    python3 "$top/tools/bench_table.py" "$BENCH_RESULTS"
    echo "(JSON lines: $BENCH_RESULTS)"
    exit $rc
fi

# ------------------------------------------------------------------ inside the namespace
ip link set lo up
run=$(mktemp -d /tmp/rcbench-XXXXXX)
prefix="rcbench-$$"
srv=""
stop_server() {
    [ -n "$srv" ] || return 0
    kill -TERM "$srv" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$srv" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$srv" 2>/dev/null || true
    wait "$srv" 2>/dev/null || true
    srv=""
}
cleanup() {
    local rc=$?
    stop_server
    rm -f /dev/shm/"$prefix".* 2>/dev/null || true
    rm -rf "$run"
    exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

sed -e "s|@CLIP@|$RC_BENCH_CLIP|g" -e "s|@HTTP_PORT@|8889|g" \
    -e "s|^shm_prefix = .*|shm_prefix = $prefix|" \
    -e "s|^control_socket = .*|control_socket = $run/ctl.sock|" \
    "$top/tools/bench.conf.in" >"$run/ringcast.conf"

ctl_json() { "$build/bin/ringcastctl" -s "$run/ctl.sock" status --json 2>/dev/null; }

start_server() {
    taskset -c 0 "$build/bin/ringcast" -c "$run/ringcast.conf" >>"$run/server.log" 2>&1 &
    srv=$!
    # Ready when the worker runs and the ingest has written a second of frames (so the ring
    # holds a keyframe): bounded poll of the control segment through ringcastctl.
    for _ in $(seq 100); do
        ctl_json | python3 -c 'import json,sys; d=json.load(sys.stdin)
sys.exit(0 if d["paths"][0]["frames_written"] >= 30 and d["workers"][0]["state"] == "running" else 1)' \
            2>/dev/null && return 0
        kill -0 "$srv" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench: ringcast did not become ready:" >&2
    tail -20 "$run/server.log" >&2
    return 1
}

# server_counters LABEL: the supervisor's totals (retransmits served, NACK misses, send drops)
# since this server started, as a JSON line in the results.
server_counters() {
    ctl_json | python3 -c 'import json,sys; d=json.load(sys.stdin)["totals"]; d["label"]=sys.argv[1]
print(json.dumps(d))' "$1" >>"$BENCH_RESULTS" || true
}

# loadgen N LABEL [extra options]: one run on CPU 1, its JSON line appended to the results.
loadgen() {
    local n=$1 label=$2 k=$BENCH_DECRYPT_EVERY
    shift 2
    [ "$k" = auto ] && k=$((n > 500 ? n / 25 : 1))
    [ "$BENCH_GRO" = 1 ] && [ "${label%% *}" != plain ] && [ "${label%% *}" != tcp ] &&
        set -- --gro "$@"
    local line
    line=$(taskset -c 1 "$build/bin/loadgen" --url http://127.0.0.1:8889/bench/whep -n "$n" \
        --conc "$BENCH_CONC" -w "$BENCH_WARMUP" -d "$BENCH_SECONDS" --server-pid "$srv" \
        --decrypt-every "$k" --max-loss 0.5 --label "$label" "$@" 2>>"$run/loadgen.log" | tail -1) || true
    [ -n "$line" ] || { echo "bench: loadgen $label gave no result:" >&2; tail -5 "$run/loadgen.log" >&2; return 1; }
    echo "$line" >>"$BENCH_RESULTS"
    echo "$line"
}

field() { # field JSON NAME
    python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"
}

for n in $BENCH_N; do
    # A fresh server per run: its memory at 0 viewers is the baseline of "memory per viewer",
    # and no session of an earlier run can linger in the next one.
    start_server
    loadgen 0 "base n=$n" -w 0 -d 1 >/dev/null
    clean=$(loadgen "$n" "clean n=$n")
    server_counters "server clean n=$n"
    [ "$BENCH_GRO" = 1 ] && plain=$(loadgen "$n" "plain n=$n")
    stop_server
    loss=$(field "$clean" loss_pct)
    sat=$(field "$clean" client_saturated)
    printf '   N=%-5s connected=%s loss=%s%% us/pkt=%s client_cpu=%s%%\n' "$n" \
        "$(field "$clean" connected)" "$loss" "$(field "$clean" server_cpu_us_per_pkt)" \
        "$(field "$clean" client_cpu_pct)" >&2
    [ "$BENCH_GRO" = 1 ] && printf '   N=%-5s without UDP_GRO at the client: loss=%s%% us/pkt=%s client_cpu=%s%%\n' \
        "$n" "$(field "$plain" loss_pct)" "$(field "$plain" server_cpu_us_per_pkt)" \
        "$(field "$plain" client_cpu_pct)" >&2
    if [ "$BENCH_DROP" != 0 ]; then
        start_server
        drop=$(loadgen "$n" "drop n=$n" --drop "$BENCH_DROP")
        server_counters "server drop n=$n"
        stop_server
        printf '   N=%-5s with %s%% dropped: recovered=%s%% us/pkt=%s\n' "$n" "$BENCH_DROP" \
            "$(field "$drop" recovered_pct)" "$(field "$drop" server_cpu_us_per_pkt)" >&2
    fi
    if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0.5 or sys.argv[2] == "True" or sys.argv[3] != sys.argv[4] or float(sys.argv[5]) < 0.95 or float(sys.argv[6] or 1) < 0.95 else 1)' \
        "$loss" "$sat" "$(field "$clean" connected)" "$n" "$(field "$clean" media_realtime)" \
        "$(field "$clean" per_viewer_realtime_min)"; then
        echo "   stopping: loss above 0.5 %, media slower than real time (for all or one viewer)," \
            "a saturated client or failed set-ups at N=$n" >&2
        break
    fi
done

# ICE-TCP next to UDP at the same N, in this run: the CPU per delivered packet of each. A
# worker takes at most 64 connections from one address (egress/icetcp.h), so the TCP
# viewers come from one loopback address per 50 of them.
if [ "$BENCH_TCP_N" != 0 ]; then
    n=$BENCH_TCP_N
    for t in udp tcp; do
        start_server
        extra=()
        [ $t = udp ] || extra=(--tcp --ips $(((n + 49) / 50)))
        r=$(loadgen "$n" "$t n=$n" "${extra[@]}")
        server_counters "server $t n=$n"
        stop_server
        printf '   N=%-5s over %s: receiving=%s loss=%s%% slowest viewer x%s realtime us/pkt=%s' \
            "$n" "$t" "$(field "$r" receiving)" "$(field "$r" loss_pct)" \
            "$(field "$r" per_viewer_realtime_min)" "$(field "$r" server_cpu_us_per_pkt)" >&2
        printf ' client_cpu=%s%% ok=%s\n' "$(field "$r" client_cpu_pct)" "$(field "$r" ok)" >&2
    done
fi
