# test_supervisor_lib.sh: shared setup for the supervisor's integration tests (sourced, not
# a test: not executable). A temp dir, a unique shm prefix, fake children speaking the
# process contract (test_supervisor_fakechild.py) unless RINGCAST_REAL_CHILDREN=1, and a
# trap that kills what the test started and removes its shm objects even on failure.
set -u
BIN=${RINGCAST_BIN:?built programs folder}
TOP=${RINGCAST_TOP:?repo root}
T=$(mktemp -d /tmp/rct-sv.XXXXXX)
PREFIX="rct-$(basename "$0" | sed "s/^test_//" | tr "_" "-" | cut -c1-18)-$$"
SOCK=$T/ctl.sock
# Ports: a slot of the assigned ranges (HTTP 19000-49, UDP 19050-99, metrics 19100-49) picked
# by pid, so that two suite runs at once (CI and a developer) rarely collide.
PORT_SLOT=$(($$ % 16))
HTTP_PORT=$((19000 + PORT_SLOT))
UDP_BASE=$((19050 + 3 * PORT_SLOT)) # up to 3 workers
METRICS_PORT=$((19100 + PORT_SLOT))
SV_PID=
SV_GROUPS= # process groups of every supervisor started (each with its children)
SV_LOG=$T/supervisor.log

cleanup() {
    local rc=$?
    if [ -n "$SV_PID" ] && kill -0 "$SV_PID" 2>/dev/null; then
        kill -TERM "$SV_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$SV_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    for g in $SV_GROUPS; do kill -KILL -- -"$g" 2>/dev/null; done # children included
    rm -f /dev/shm/"$PREFIX".*
    if [ $rc -ne 0 ] && [ -f "$SV_LOG" ]; then
        echo "---- supervisor log"; tail -n 60 "$SV_LOG"
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

if [ "${RINGCAST_REAL_CHILDREN:-0}" != 1 ]; then
    mkdir -p "$T/children"
    for b in ringcast-ingest ringcast-egress; do
        printf '#!/bin/sh\nexec /usr/bin/python3 %s/test/integration/test_supervisor_fakechild.py "$@"\n' \
            "$TOP" >"$T/children/$b"
        chmod +x "$T/children/$b"
    done
    export RINGCAST_CHILD_DIR=$T/children
fi
: >"$T/clip.h264"
[ -f "$TOP/etc/demo.h264" ] && cp "$TOP/etc/demo.h264" "$T/clip.h264"

# write_conf FILE WORKERS [PATH SOURCE]...: a config on the test's ports and prefix.
write_conf() {
    local f=$1 workers=$2; shift 2
    {
        echo "[server]"
        echo "http_listen = 127.0.0.1:$HTTP_PORT"
        echo "metrics_listen = 127.0.0.1:$METRICS_PORT"
        echo "control_socket = $SOCK"
        echo "workers = $workers"
        echo "udp_port_base = $UDP_BASE"
        echo "shm_prefix = $PREFIX"
        echo "log_level = ${LOG_LEVEL:-info}"
        while [ $# -ge 2 ]; do
            printf '[path %s]\nsource = %s\n' "$1" "$2"
            shift 2
        done
    } >"$f"
}

# start_supervisor CONF: runs ringcast in the background, logging to $SV_LOG.
start_supervisor() {
    # Its own process group, so that cleanup can reach orphaned children by id.
    setsid "$BIN/ringcast" -c "$1" >>"$SV_LOG" 2>&1 &
    SV_PID=$!
    SV_GROUPS="$SV_GROUPS $SV_PID"
}

# mark_log: later wait_log calls only look at lines logged after this point.
SV_LOG_MARK=0
mark_log() { SV_LOG_MARK=$(wc -l <"$SV_LOG"); }

# wait_log REGEX SECONDS [COUNT]: waits (bounded) until COUNT (default 1) lines logged since
# the last mark_log match REGEX, in any order; leaves the last one in $LINE. Call it
# directly, not in $(...).
wait_log() {
    local deadline=$((SECONDS + $2)) want=${3:-1} hits
    while :; do
        hits=$(tail -n +$((SV_LOG_MARK + 1)) "$SV_LOG" | grep -E -- "$1")
        if [ -n "$hits" ] && [ "$(echo "$hits" | wc -l)" -ge "$want" ]; then
            LINE=$(echo "$hits" | sed -n "${want}p")
            return 0
        fi
        [ $SECONDS -lt $deadline ] || fail "no log line /$1/ (x$want) within $2 s"
        sleep 0.05
    done
}

ctl() { "$BIN/ringcastctl" -s "$SOCK" "$@"; }

# wait_running N SECONDS: waits (bounded) until N children report running. Their state lives
# in the control segment, so this polls ringcastctl; it fails the test on timeout.
wait_running() {
    local deadline=$((SECONDS + $2)) n
    while :; do
        n=$(jget status 'sum(c["state"] == "running" for c in d["paths"] + d["workers"])' 2>/dev/null)
        [ "$n" = "$1" ] && return 0
        [ $SECONDS -lt $deadline ] || fail "$1 children not running after $2 s (${n:-no reply})"
        sleep 0.05
    done
}

# jq-like access to `ringcastctl --json` with python: jget VIEW EXPR (EXPR on variable d).
jget() {
    ctl "$1" --json | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"
}

# kill_child SIGNAL PID: signals one child; refuses pid 0 or 1 (a child in backoff reports
# pid 0, and `kill 0` would hit this test's own process group).
kill_child() {
    [ "${2:-0}" -gt 1 ] 2>/dev/null || fail "no pid to send SIG$1 to (got '${2:-}')"
    kill -"$1" "$2"
}

# alive PID: running (a zombie whose parent died counts as gone: PID 1 may never reap it).
alive() { [ -r /proc/"$1"/stat ] && ! sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | grep -q '^Z'; }

# wait_gone PID SECONDS: true once PID has exited.
wait_gone() {
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.05
    done
}
