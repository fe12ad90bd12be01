#!/usr/bin/env bash
# test/fuzz/run.sh: `make fuzz`: runs each libFuzzer target for SECONDS on its corpus,
# growing test/fuzz/corpus/<target>/ with what it finds.
set -u
dir=$1; seconds=${2:-60}; status=0
cd "$(dirname "$0")/../.."
for f in "$dir"/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f"); corpus="test/fuzz/corpus/${name#fuzz_}"
    mkdir -p "$corpus"
    echo "== $name for ${seconds}s"
    "$f" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 "$corpus" || status=1
done
exit $status
