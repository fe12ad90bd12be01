#!/usr/bin/env bash
# test/run.sh: runs every test of `make test` and prints one summary line.
#   clang-format check, unit tests (release and ASan+UBSan builds), integration tests (test/integration/*,
#   each bounded in time), then a short libFuzzer pass over each target's seed corpus.
# Usage: test/run.sh [--unit-only] BUILD_DIR
set -u
unit_only=0
if [ "${1:-}" = "--unit-only" ]; then unit_only=1; shift; fi
build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export RINGCAST_BUILD="$build" RINGCAST_BIN="$build/bin" RINGCAST_TOP="$top"
FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-3}
INTEGRATION_TIMEOUT=${INTEGRATION_TIMEOUT:-300}

pass=0; fail=0; failed=()
logdir=$(mktemp -d /tmp/ringcast-test.XXXXXX)

run_one() { # name, timeout, command...
    local name=$1 limit=$2; shift 2
    local log="$logdir/$(echo "$name" | tr '/ ' '__').log"
    local t0=$(date +%s%N)
    timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
    local rc=$?
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    local dt="$((ms / 1000)).$(( (ms % 1000) / 100 ))"
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); printf 'PASS  %-52s %6ss\n' "$name" "$dt"
    else
        fail=$((fail + 1)); failed+=("$name")
        printf 'FAIL  %-52s %6ss (exit %d)\n' "$name" "$dt" "$rc"
        tail -n 40 "$log" | sed 's/^/      | /'
    fi
}

echo "== style"
run_one "format/clang-format" 120 make -s check-format

echo "== unit tests"
for t in "$build"/test/test_*; do
    [ -x "$t" ] && run_one "unit/$(basename "$t")" 600 "$t"
done
echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
for t in "$build"/asan/test/test_*; do
    [ -x "$t" ] && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        run_one "asan/$(basename "$t")" 900 "$t"
done

if [ $unit_only -eq 0 ]; then
    echo "== integration tests"
    for t in test/integration/test_*; do
        [ -x "$t" ] || continue
        run_one "integration/$(basename "$t")" "$INTEGRATION_TIMEOUT" "$t"
    done
    echo "== fuzz targets, ${FUZZ_SMOKE_SECONDS}s each on the seed corpus"
    for f in "$build"/fuzz-build/fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        name=$(basename "$f"); corpus="test/fuzz/corpus/${name#fuzz_}"
        work=$(mktemp -d); [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
        run_one "fuzz/$name" 120 "$f" -max_total_time="$FUZZ_SMOKE_SECONDS" -rss_limit_mb=2048 \
            -artifact_prefix="$logdir/$name-" "$work"
        rm -rf "$work"
    done
fi

echo "== $pass passed, $fail failed (logs in $logdir)"
[ $fail -eq 0 ] || { printf '   failed: %s\n' "${failed[@]}"; exit 1; }
