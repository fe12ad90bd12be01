#!/usr/bin/env python3
"""bench_table.py: renders tools/bench.sh's JSON lines (loadgen results labelled
"base n=N", "clean n=N", "plain n=N" (a clean run without UDP_GRO at the client), "drop n=N",
"udp n=N" and "tcp n=N" (the ICE-TCP case and its UDP reference)) and the server's counters
("server clean n=N", "server drop n=N", ...) as Markdown tables, and checks issue 6's targets.
A run where a viewer got less than 95 % of the stream (loadgen's per_viewer_realtime_min) is
marked not clean.
Usage: tools/bench_table.py RESULTS.jsonl"""
import json
import sys


def load(path):
    runs = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            kind, _, n = r.get("label", "").partition(" n=")
            if kind in ("base", "clean", "plain", "drop", "udp", "tcp", "server clean",
                        "server drop", "server udp", "server tcp") and n.isdigit():
                runs.setdefault(int(n), {})[kind] = r
    return runs


def private_pss(r):
    """PSS outside /dev/shm: the ring fills over a minute whatever the viewer count."""
    return r.get("server_pss_mib", 0) - r.get("server_pss_shm_mib", 0)


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def slowest(r):
    """The slowest viewer's media time per wall time, and whether that makes the run unclean."""
    v = r.get("per_viewer_realtime_min")
    return fmt(v, ".3f") + (" NOT CLEAN" if v is not None and v < 0.95 else "")


def transport_table(runs):
    """ICE-TCP next to UDP at the same N, from the same bench run."""
    rows = [(n, t, runs[n][t], runs[n].get("server " + t, {}))
            for n in sorted(runs) for t in ("udp", "tcp") if t in runs[n]]
    if not rows:
        return
    print("\nICE-TCP next to UDP (same run, a fresh server each):")
    print("| N | transport | recv | stalled | pkts/s | per-viewer pps min/max | slowest viewer x realtime"
          " | srv CPU % | us/pkt | loss % | tcp skips | client CPU % | ok |")
    print("|" + "---|" * 13)
    for n, t, r, sc in rows:
        print(f"| {n} | {t} | {r['receiving']} | {r['stalled']} | {r['pkts_per_s']:,.0f}"
              f" | {r['per_viewer_pps_min']:.1f}/{r['per_viewer_pps_max']:.1f} | {slowest(r)}"
              f" | {fmt(r.get('server_cpu_pct'), '.1f')} | {fmt(r.get('server_cpu_us_per_pkt'), '.2f')}"
              f" | {r['loss_pct']:.3f} | {sc.get('tcp_skips', '-')} | {r['client_cpu_pct']:.1f}"
              f" | {r['ok']}{'' if r['ok'] else ' (' + r['why'] + ')'} |")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    runs = load(sys.argv[1])
    if not runs:
        print("(no fan-out results)")
        return
    drop_pct = next((r["drop"]["drop_pct"] for r in runs.values() if "drop" in r), 0)
    print("| N | recv | pkts/s | media x realtime | slowest viewer | srv CPU % | us/pkt | us/pkt, client w/o GRO"
          " | loss % | client rcvbuf drops"
          " | KiB/viewer"
          " | first frame p50/p95 ms"
          f" | client CPU % | {drop_pct:g}% drop: recovered % | retransmits | us/pkt | x clean"
          " | us/retx | ok |")
    print("|" + "---|" * 19)
    rows = []
    for n in sorted(runs):
        c, b, d = runs[n].get("clean"), runs[n].get("base"), runs[n].get("drop")
        p = runs[n].get("plain", {})
        pus = p.get("server_cpu_us_per_pkt") if p.get("loss_pct", 100) <= 0.5 else None
        sd = runs[n].get("server drop", {})
        if not c:
            continue
        kib = None
        if b and n:
            kib = (private_pss(c) - private_pss(b)) * 1024 / n
        us = c.get("server_cpu_us_per_pkt")
        dus = d.get("server_cpu_us_per_pkt") if d else None
        ratio = dus / us if d and us else None
        # CPU a retransmission costs: the drop run's server CPU beyond what the clean run
        # spent on the same number of delivered packets, per packet recovered.
        retx_us = None
        if d and d.get("retrans_recovered") and us is not None and d.get("server_cpu_s") is not None:
            retx_us = (d["server_cpu_s"] - us * 1e-6 * d["pkts"]) * 1e6 / d["retrans_recovered"]
        rows.append((n, c, kib, us, d, dus, ratio, pus))
        print(f"| {n} | {c['receiving']} | {c['pkts_per_s']:,.0f} | {fmt(c.get('media_realtime'), '.3f')}"
              f" | {slowest(c)}"
              f" | {fmt(c.get('server_cpu_pct'), '.1f')}"
              f" | {fmt(us, '.2f')} | {fmt(pus, '.2f')} | {c['loss_pct']:.3f} | {c.get('udp_rcvbuf_errors', '-')}"
              f" | {fmt(kib, '.1f')}"
              f" | {c['first_frame_ms_p50']:.0f}/{c['first_frame_ms_p95']:.0f}"
              f" | {c['client_cpu_pct']:.1f} | {fmt(d and d['recovered_pct'], '.2f')}"
              f" | {sd.get('retransmits', '-')}"
              f" | {fmt(dus, '.2f')} | {fmt(ratio, '.2f')} | {fmt(retx_us, '.1f')}"
              f" | {c['ok'] and (not d or d['ok'])} |")

    print("\nissue 6 targets (one core for all ringcast processes, NACK on):")
    for n, c, kib, us, d, dus, ratio, pus in rows:
        notes = []
        if n in (1000, 2000) and us is not None:
            plain = f", {pus:.2f} without client GRO" if pus is not None else ""
            notes.append(f"{us:.2f} us/pkt{plain} ({'met' if us <= 1.5 else 'missed'}: <= 1.5)")
        if kib is not None and n >= 500:
            notes.append(f"{kib:.1f} KiB/viewer ({'met' if kib <= 8 else 'missed'}: <= 8)")
        if n == 1000:
            p95 = c["first_frame_ms_p95"]
            notes.append(f"first frame p95 {p95:.0f} ms ({'met' if p95 <= 300 else 'missed'}: <= 300)")
        if d and not (d["ok"] and d["pkts"]):
            notes.append(f"drop run not valid ({d['why']}, client CPU {d['client_cpu_pct']:.0f} %)")
        elif d:
            ok = d["recovered_pct"] >= 99 and ratio is not None and ratio <= 1.3
            notes.append(f"drop: {d['recovered_pct']:.1f}% recovered, x{fmt(ratio, '.2f')} CPU"
                         f" ({'met' if ok else 'missed'}: >= 99 %, <= 1.3x)")
        if notes:
            print(f"  N={n}: " + "; ".join(notes))
    served = [n for n, c, *_ in rows if c["loss_pct"] <= 0.5 and c["receiving"] == n
              and not c["client_saturated"] and c.get("media_realtime", 0) >= 0.95
              and c.get("per_viewer_realtime_min", 1) >= 0.95]
    if served:
        top = max(served)
        print(f"  largest N served cleanly in this run: {top}"
              f" ({'met' if top >= 2500 else 'not shown'}: >= 2500 viewers)")
    transport_table(runs)


if __name__ == "__main__":
    main()
