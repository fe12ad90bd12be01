#!/usr/bin/env python3
"""bench_compare.py: ringcast side by side with the reference servers, from run-anchor.sh
JSON lines (tools/bench-compare.sh): a table per N, then ringcast's ratios (server CPU per
delivered packet and memory; > 1 means ringcast is that many times cheaper).
Every run also shows its slowest viewer's packet rate against the stream's: a run where any
viewer got less than 95 % of it is not clean, even with no loss counted (a viewer that falls
behind without gaps in its sequence numbers sees a stuttering picture).
The stream's rate is $COMPARE_STREAM_PPS if set, else the median over the file's clean runs
of their mean per-viewer rate (every run plays the same clip), or the highest such mean when
no run is clean (a disturbed run only ever lowers it).
Usage: tools/bench_compare.py RESULTS.jsonl"""
import json
import os
import statistics
import sys

MIN_SHARE = 0.95

COLS = [("server", "server"), ("n", "N"), ("viewers_receiving", "recv"),
        ("server_cpu_pct", "srv CPU %"), ("server_cpu_us_per_pkt", "us/pkt"),
        ("server_pss_mib", "Pss MiB"), ("pkts_per_s", "pkts/s"),
        ("per_viewer_pps_min", "viewer pps min"), ("per_viewer_pps_max", "viewer pps max"),
        ("slowest_share", "slowest % of stream"), ("setup_s", "setup s"), ("loss_pct", "loss %"),
        ("client_cpu_pct", "client CPU %"), ("ok", "ok")]


def cell(v):
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.2f}"
    return str(v)


def stream_pps(runs):
    """The stream's packet rate: given, or from the runs' mean per-viewer rates."""
    if os.environ.get("COMPARE_STREAM_PPS"):
        return float(os.environ["COMPARE_STREAM_PPS"])
    runs = [d for by in runs.values() for d in by.values()
            if d.get("viewers_receiving") and d.get("pkts_per_s")]
    means = [d["pkts_per_s"] / d["viewers_receiving"] for d in runs]
    clean = [m for m, d in zip(means, runs) if d.get("ok")]
    return statistics.median(clean) if clean else max(means, default=0)


def judge(d, pps):
    """Adds slowest_share (%) and marks a run with a viewer below MIN_SHARE of the stream."""
    if not pps or d.get("per_viewer_pps_min") is None:
        return
    d["slowest_share"] = 100.0 * d["per_viewer_pps_min"] / pps
    if d["slowest_share"] < 100 * MIN_SHARE:
        why = f"a viewer got {d['slowest_share']:.0f} % of the stream's {pps:.1f} pkts/s"
        d["ok"] = False
        d["why"] = "; ".join(w for w in (d.get("why"), why) if w)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    runs = {}
    with open(sys.argv[1]) as f:
        for line in f:
            if line.startswith("{"):
                d = json.loads(line)
                if d.get("n") is not None and d.get("server"):
                    runs.setdefault(d["n"], {})[d["server"]] = d
    if not runs:
        print("(no results)")
        return
    pps = stream_pps(runs)
    for by in runs.values():
        for d in by.values():
            judge(d, pps)
    print(f"stream: {pps:.1f} pkts/s; a run is clean only if every viewer gets >= "
          f"{100 * MIN_SHARE:.0f} % of it\n")
    print("| " + " | ".join(h for _, h in COLS) + " | why not clean |")
    print("|" + "---|" * (len(COLS) + 1))
    for n in sorted(runs):
        for d in runs[n].values():
            print("| " + " | ".join(cell(d.get(k, "")) for k, _ in COLS)
                  + f" | {'' if d.get('ok') else d.get('why', '')} |")
    print("\nringcast's advantage (reference / ringcast; > 1 = ringcast cheaper):")
    for n in sorted(runs):
        rc = runs[n].get("ringcast")
        if not rc:
            print(f"  N={n}: no ringcast result")
            continue
        for name, ref in runs[n].items():
            if name == "ringcast":
                continue
            parts = []
            if rc.get("server_cpu_us_per_pkt") and ref.get("server_cpu_us_per_pkt"):
                parts.append(f"CPU/pkt x{ref['server_cpu_us_per_pkt'] / rc['server_cpu_us_per_pkt']:.2f}")
            if rc.get("server_pss_mib") and ref.get("server_pss_mib"):
                parts.append(f"memory x{ref['server_pss_mib'] / rc['server_pss_mib']:.2f}")
            flags = "" if rc.get("ok") and ref.get("ok") else \
                f" (not clean: ringcast ok={rc.get('ok')} {rc.get('why', '')}; {name} ok={ref.get('ok')} {ref.get('why', '')})"
            print(f"  N={n} vs {name}: " + ", ".join(parts) + flags)


if __name__ == "__main__":
    main()
