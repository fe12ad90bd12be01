#!/usr/bin/env python3
"""bench_compare.py: ringcast side by side with the reference servers, from run-anchor.sh
JSON lines (tools/bench-compare.sh): a table per N, then ringcast's ratios (server CPU per
delivered packet and memory; > 1 means ringcast is that many times cheaper).
Usage: tools/bench_compare.py RESULTS.jsonl"""
import json
import sys

COLS = [("server", "server"), ("n", "N"), ("viewers_receiving", "recv"),
        ("server_cpu_pct", "srv CPU %"), ("server_cpu_us_per_pkt", "us/pkt"),
        ("server_pss_mib", "Pss MiB"), ("pkts_per_s", "pkts/s"), ("loss_pct", "loss %"),
        ("client_cpu_pct", "client CPU %"), ("ok", "ok")]


def cell(v):
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.2f}"
    return str(v)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    runs = {}
    with open(sys.argv[1]) as f:
        for line in f:
            if line.startswith("{"):
                d = json.loads(line)
                runs.setdefault(d.get("n"), {})[d.get("server")] = d
    if not runs:
        print("(no results)")
        return
    print("| " + " | ".join(h for _, h in COLS) + " |")
    print("|" + "---|" * len(COLS))
    for n in sorted(runs):
        for d in runs[n].values():
            print("| " + " | ".join(cell(d.get(k, "")) for k, _ in COLS) + " |")
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
