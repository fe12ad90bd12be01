#!/usr/bin/env bash
# bench-whip.sh: the WHIP ingest's CPU per received packet (issue 16). In a private network
# namespace, a worker and a source = publish path's ingest; an aiortc publisher
# (test/integration/whip_publisher.py --clip) sends the 720p30 reference clip etc/demo.h264
# as it is, packetized, paced to each rate of $BENCH_WHIP_MBPS; after $BENCH_WHIP_WARMUP s
# the ingest's CPU time (its threads' run time in /proc/PID/task/*/schedstat, in ns) over $BENCH_WHIP_SECONDS s is divided by
# the RTP datagrams delivered to it meanwhile (an nftables counter on the media that does
# not touch the worker's port). $BENCH_WHIP_RUNS runs a rate: the machine may be shared.
# BENCH_WHIP_DROP=P drops P % of the publisher's RTP at random first (retransmissions too):
# the NACK counters of the sessions' end lines then say how much was recovered;
# BENCH_WHIP_RTT=MS has the publisher answer NACKs that much later (a path's round trip).
# Prints one JSON line a run (with the ingest's private memory, RssAnon, at its end), then a
# line per rate: median and spread.
# Usage: tools/bench-whip.sh BUILD_DIR
# Environment: BENCH_WHIP_MBPS ("2 8"), BENCH_WHIP_RUNS (3), BENCH_WHIP_SECONDS (8),
#   BENCH_WHIP_WARMUP (2), BENCH_WHIP_DROP (0),
#   BENCH_WHIP_RTT (0).
set -euo pipefail
export RINGCAST_BIN=${RINGCAST_BIN:-$(cd "${1:?usage: tools/bench-whip.sh BUILD_DIR}" && pwd)/bin}
export RINGCAST_TOP=${RINGCAST_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
WHEP_NETNS=1
. "$RINGCAST_TOP/test/integration/whep_env.sh"
rates=${BENCH_WHIP_MBPS:-"2 8"}
runs=${BENCH_WHIP_RUNS:-3}
window=${BENCH_WHIP_SECONDS:-8}
warmup=${BENCH_WHIP_WARMUP:-2}
media=18867
ip addr add 192.0.2.10/32 dev lo # aioice gathers no loopback candidates
nft add table inet whipbench
nft add chain inet whipbench in "{ type filter hook input priority 0; }"
# Not "udp dport != $media udp sport != $media": nftables 1.0.6 merges the two into one
# compare of both ports, true unless both are $media.
nft add rule inet whipbench in udp sport $media accept
nft add rule inet whipbench in udp dport $media accept
rtp="meta l4proto udp @th,64,8 128-191 @th,72,8 != 192-223"
[ "${BENCH_WHIP_DROP:-0}" = 0 ] ||
    nft add rule inet whipbench in $rtp numgen random mod 100 "<" "$BENCH_WHIP_DROP" drop
nft add rule inet whipbench in $rtp counter
WHEP_LOG_LEVEL=info whep_start 18817 $media "[path pub]" "source = publish"
"$bin/ringcast-ingest" --path pub -c "$work/ringcast.conf" 2>"$work/ingest-pub.log" &
pids+=($!)
ingest=$!
wait_for_line "$work/ingest-pub.log" 10 "waiting for publishers"
cpu() { cat /proc/$ingest/task/*/schedstat | awk '{s += $1} END {printf "%d", s}'; }
packets() { nft list table inet whipbench | grep -o 'packets [0-9]*' | cut -d' ' -f2; }
n=0
for rate in $rates; do
    for run in $(seq "$runs"); do
        /usr/bin/python3 "$top/test/integration/whip_publisher.py" --url "$base/pub/whip" \
            --clip "$top/etc/demo.h264" --mbps "$rate" --rtt-ms "${BENCH_WHIP_RTT:-0}" --seconds $((warmup + window + 1)) \
            >"$work/pub.json" 2>>"$work/publisher.log" &
        pub=$!
        n=$((n + 1))
        deadline=$((SECONDS + 15))
        until [ "$(grep -c "connected from" "$work/ingest-pub.log")" -ge $n ]; do
            [ $SECONDS -lt $deadline ] || fail "the publisher did not connect"
            sleep 0.1
        done
        sleep "$warmup"
        c0=$(cpu); p0=$(packets)
        sleep "$window" # the measured window, not a sync
        c1=$(cpu); p1=$(packets)
        rss=$(awk '/RssAnon/{print $2}' /proc/$ingest/status)
        wait $pub
        $py -c 'import json, sys
rate, run, win, c, p, rss = sys.argv[1:]
c, p, win = int(c), int(p), float(win)
print(json.dumps({"mbps": float(rate), "run": int(run), "packets": p,
                  "packets_per_s": round(p / win), "cpu_ms": round(c / 1e6, 1),
                  "cpu_pct": round(c / 1e7 / win, 2), "ingest_anon_kib": int(rss),
                  "us_per_packet": round(c / 1e3 / p, 2) if p else None}))' \
            "$rate" "$run" "$window" $((c1 - c0)) $((p1 - p0)) "$rss" | tee -a "$work/runs.jsonl"
    done
done
$py - "$work/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
for rate in sorted({r["mbps"] for r in runs}):
    us = [r["us_per_packet"] for r in runs if r["mbps"] == rate and r["us_per_packet"]]
    pps = [r["packets_per_s"] for r in runs if r["mbps"] == rate]
    print(json.dumps({"whip_mbps": rate, "packets_per_s": statistics.median(pps),
                      "us_per_packet_median": statistics.median(us),
                      "us_per_packet_min": min(us), "us_per_packet_max": max(us)}))
PY
grep "left after" "$work/ingest-pub.log" | sed 's/^.*whip pub: /ingest: /' | cut -c1-640 >&2
