#!/usr/bin/env bash
# bench-compare.sh: `make bench-compare`. Runs ../shared/bench/run-anchor.sh (one harness,
# one independent pion client) for pion-nack, pion-nonack, janus and ringcast at each N in
# $COMPARE_N with SRTP=gcm, in one run, then prints the table and ringcast's ratios to each
# reference (tools/bench_compare.py).
# Usage: tools/bench-compare.sh BUILD_DIR
# Environment: COMPARE_N ("200 500"), COMPARE_SECONDS (20), COMPARE_SERVERS
#   ("pion-nack pion-nonack janus ringcast"), RINGCAST_SHARED_BENCH (../shared/bench),
#   BENCH_WORK (/tmp/ringcast-bench), COMPARE_RESULTS (BUILD_DIR/bench/compare-TIME.jsonl).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: tools/bench-compare.sh BUILD_DIR}" && pwd)
shared=$(cd "${RINGCAST_SHARED_BENCH:-$top/../shared/bench}" 2>/dev/null && pwd) || {
    echo "bench-compare: no reference harness at ${RINGCAST_SHARED_BENCH:-$top/../shared/bench}" \
        "(set RINGCAST_SHARED_BENCH)" >&2
    exit 1
}
COMPARE_N=${COMPARE_N:-"200 500"}
COMPARE_SECONDS=${COMPARE_SECONDS:-20}
COMPARE_SERVERS=${COMPARE_SERVERS:-"pion-nack pion-nonack janus ringcast"}
[ -x "$build/bin/ringcast" ] || { echo "bench-compare: $build/bin/ringcast not built" >&2; exit 1; }

# The references come from Debian packages (golang, pion, janus); setup.sh installs them.
if ! command -v go >/dev/null || ! command -v janus >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
        "$shared/setup.sh"
    else
        echo "bench-compare: run 'sudo $shared/setup.sh' once (golang, pion, janus)" >&2
        exit 1
    fi
fi

mkdir -p "$build/bench"
results=${COMPARE_RESULTS:-$build/bench/compare-$(date +%Y%m%d-%H%M%S).jsonl}
: >"$results"
echo "== bench-compare: $COMPARE_SERVERS at N = $COMPARE_N, SRTP=gcm, ${COMPARE_SECONDS}s windows;" \
    "load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
fail=0
for n in $COMPARE_N; do
    for server in $COMPARE_SERVERS; do
        echo "-- $server N=$n" >&2
        line=$(SRTP=gcm RINGCAST_BIN="$build/bin/ringcast" \
            RINGCAST_CONF_TEMPLATE="$top/tools/bench.conf.in" \
            "$shared/run-anchor.sh" "$server" "$n" "$COMPARE_SECONDS" | tail -1) || true
        if [ -z "$line" ] || [ "${line:0:1}" != "{" ]; then
            echo "bench-compare: $server N=$n produced no result" >&2
            fail=1
            continue
        fi
        echo "$line" >>"$results"
    done
done
echo
python3 "$top/tools/bench_compare.py" "$results"
echo "(JSON lines: $results)"
exit $fail
