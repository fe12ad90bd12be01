# whep_env.sh: shared setup for the test_whep_* integration tests (sourced, not run).
# whep_start HTTP_PORT UDP_BASE [config lines] starts ringcast-ingest on the demo clip (path
# "demo") and WHEP_WORKERS (default 1) standalone ringcast-egress workers sharing the HTTP
# port, with a config in a temp dir (the extra lines go after the [server] keys; log level
# WHEP_LOG_LEVEL, default debug), waits
# (bounded) until all are ready, and arranges for everything to be stopped and removed on
# exit. Worker 0 logs to $work/egress.log, worker i > 0 to $work/egress$i.log.
# WHEP_HTTP_HOST (default 127.0.0.1) is the address the workers' HTTP port binds;
# WHEP_RTSP_LISTEN (default off) their RTSP server's HOST:PORT.
# WHEP_NETNS=1 (set before sourcing) first re-runs the test in a private network namespace
# with loopback up: any port is then free, and the test may add addresses of its own.
set -euo pipefail
if [ "${WHEP_NETNS:-}" = 1 ] && [ -z "${WHEP_IN_NETNS:-}" ]; then
    # root: a plain network namespace; otherwise a user namespace that maps us to root.
    unshare --net true 2>/dev/null && ns=(unshare --net) || ns=(unshare -rn)
    exec "${ns[@]}" env WHEP_IN_NETNS=1 "$0" "$@"
fi
[ -z "${WHEP_IN_NETNS:-}" ] || ip link set lo up
bin=${RINGCAST_BIN:?RINGCAST_BIN: folder of the built programs}
top=${RINGCAST_TOP:?RINGCAST_TOP: repository root}
py=/usr/bin/python3
work=$(mktemp -d /tmp/rct-whep.XXXXXX)
prefix="rct-whep-$$"
pids=()

whep_cleanup() {
    local rc=$?
    # A process a test stopped (SIGSTOP) is continued, so it gets the TERM and can be waited.
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null && kill -CONT "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ $rc -ne 0 ]; then
        for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
    fi
    rm -f /dev/shm/"$prefix".* 2>/dev/null || true
    rm -rf "$work"
}
trap whep_cleanup EXIT

# Waits up to $2 seconds for file $1 to contain $3.
wait_for_line() {
    local deadline=$((SECONDS + $2))
    until grep -q "$3" "$1" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { echo "timeout waiting for '$3' in $1"; return 1; }
        sleep 0.1
    done
}

fail() { echo "FAIL: $*"; exit 1; }

whep_start() {
    http_port=$1; udp_base=$2; shift 2
    base="http://127.0.0.1:$http_port"
    {
        echo "[server]"
        echo "http_listen = ${WHEP_HTTP_HOST:-127.0.0.1}:$http_port"
        echo "udp_port_base = $udp_base"
        echo "workers = ${WHEP_WORKERS:-1}"
        echo "shm_prefix = $prefix"
        echo "log_level = ${WHEP_LOG_LEVEL:-debug}"
        echo "rtsp_listen = ${WHEP_RTSP_LISTEN:-off}"
        for line in "$@"; do echo "$line"; done
        echo "[path demo]"
        echo "source = file:$top/etc/demo.h264"
    } > "$work/ringcast.conf"
    "$bin/ringcast-ingest" --path demo --source "file:$top/etc/demo.h264" \
        -c "$work/ringcast.conf" 2>"$work/ingest.log" &
    pids+=($!)
    local i log
    for ((i = 0; i < ${WHEP_WORKERS:-1}; i++)); do
        log="$work/egress$([ $i = 0 ] || echo $i).log"
        "$bin/ringcast-egress" --index $i -c "$work/ringcast.conf" 2>"$log" &
        pids+=($!)
        [ $i = 0 ] && egress_pid=$!
        wait_for_line "$log" 10 "serving WHEP"
    done
    wait_for_line "$work/ingest.log" 10 "looping"
}

# The worker's current viewer count from GET /v1/status.
whep_viewers() {
    curl -s "$base/v1/status" | $py -c 'import json,sys; print(json.load(sys.stdin)["workers"][0]["viewers"])'
}
