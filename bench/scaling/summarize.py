#!/usr/bin/env python3
"""Turns one scaling run's raw files into the markdown of results/<stamp>.md (printed on stdout).

    summarize.py [--command TEXT] FILE...

FILEs, from results/raw/:
  results-<stamp>.json  the shared harness's output for one or more scenarios of scaling.toml
  load-<stamp>.tsv      scenario, /proc/loadavg (1, 5, 15 min) before it, and after it
  memory-<stamp>.tsv    client, lines, ok, peak RSS KiB, user s, sys s, wall s, exit status, load

Verdicts are issue 7's thresholds: CPU µs per request within 15% across a series (max / min of the
medians <= 1.15), and a 10,000,000-line list costing <= 64 MiB more peak RSS than a 1,000-line one.
"""

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys

SERIES = {
    "A": ("Series A: URL count (keep-alive /small, c=50)", ["A1k", "A10k", "A50k", "A200k"]),
    "B": ("Series B: concurrency (20,000 × keep-alive /small)", ["B10", "B100", "B1000", "B10000"]),
}
# Shown beside a series but left out of its verdict.
EXTRA = {"B": ["B10000L"]}
FIXED = "A1"          # one URL: the start-up cost subtracted for the "net" column
FLAT = 1.15           # CPU/request: max / min across a series
RSS_BUDGET_MIB = 64   # 10M-line list minus 1k-line list


def load_inputs(paths):
    runs, envs, loads, memory = [], [], {}, []
    for p in paths:
        if p.endswith(".json"):
            data = json.load(open(p))
            envs.append(data["environment"])
            runs.extend(data["runs"])
        elif "/load-" in p or p.startswith("load-"):
            for line in open(p):
                sid, before, after = line.rstrip("\n").split("\t")
                loads[sid] = (before, after)
        elif "/memory-" in p or p.startswith("memory-"):
            for line in open(p):
                f = line.rstrip("\n").split("\t")
                memory.append({"client": f[0], "lines": int(f[1]), "ok": int(f[2] or 0),
                               "rss_kib": int(f[3] or 0), "cpu_s": float(f[4] or 0) + float(f[5] or 0),
                               "wall_s": float(f[6] or 0), "rc": int(f[7] or 0), "load": f[8]})
    return runs, envs, loads, memory


def medians(runs, sid, client):
    good = [r for r in runs if r["scenario"] == sid and r["client"] == client and r["status"] == "ok"]
    allr = [r for r in runs if r["scenario"] == sid and r["client"] == client]
    if not good:
        return None
    cpu = [r["cpu_us_per_req"] for r in good]
    return {
        "cpu": statistics.median(cpu), "cpu_min": min(cpu), "cpu_max": max(cpu),
        "cpu_s": statistics.median(r["cpu_s"] for r in good), "n": good[0]["expected"],
        "rss": statistics.median(r["max_rss_kib"] for r in good) / 1024,
        "wall": statistics.median(r["wall_s"] for r in good),
        "rps": statistics.median(r["req_per_s"] for r in good),
        "ok": f"{len(good)}/{len(allr)}",
        "syn": sum(r.get("tcp", {}).get("TCPSynRetrans", 0) for r in good),
        "overflow": sum(r.get("tcp", {}).get("ListenOverflows", 0) for r in good),
    }


def fixed_md(runs, loads):
    rows = [(c, medians(runs, FIXED, c)) for c in ("spool", "hyper")]
    if not any(m for _, m in rows):
        return []
    before, after = loads.get(FIXED, ("?", "?"))
    out = ["### Fixed cost: one URL (process start to exit, with the harness's taskset + GNU time)", "",
           "| client | CPU ms | peak RSS MiB | wall s | load before → after |", "|---|--:|--:|--:|---|"]
    for c, m in rows:
        if m:
            out.append(f"| {c} | {m['cpu_s'] * 1e3:.2f} | {m['rss']:.1f} | {m['wall']:.3f} | {before} → {after} |")
    return out + [""]


def series_md(runs, loads, key):
    title, sids = SERIES[key]
    shown = sids + EXTRA.get(key, [])
    have = [s for s in shown if any(r["scenario"] == s for r in runs)]
    if not have:
        return []
    out = [f"### {title}", "",
           "| scenario | client | CPU µs/req (median) | min–max | net of start-up | peak RSS MiB | wall s "
           "| req/s | runs ok | SYN retrans / listen overflows | load before → after |",
           "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
    per_client = {}
    for sid in have:
        for client in ("spool", "hyper"):
            m = medians(runs, sid, client)
            if m is None:
                out.append(f"| {sid} | {client} | failed | | | | | | | | |")
                continue
            fixed = medians(runs, FIXED, client)
            net = (m["cpu_s"] - fixed["cpu_s"]) * 1e6 / (m["n"] - 1) if fixed and m["n"] > 1 else None
            if sid in sids:
                per_client.setdefault(client, []).append((sid, m["cpu"], net))
            before, after = loads.get(sid, ("?", "?"))
            net_s = f"{net:.1f}" if net is not None else "—"
            out.append(f"| {sid} | {client} | {m['cpu']:.1f} | {m['cpu_min']:.1f}–{m['cpu_max']:.1f} | "
                       f"{net_s} | {m['rss']:.1f} | {m['wall']:.3f} | {m['rps']:,.0f} | {m['ok']} | "
                       f"{m['syn']} / {m['overflow']} | {before} → {after} |")
    out.append("")
    for client, vals in per_client.items():
        if len(vals) < 2:
            continue
        names = ", ".join(s for s, _, _ in vals)
        partial = "" if len(vals) == len(sids) else f"; only {len(vals)} of {len(sids)} points"
        for what, idx in (("CPU µs/req", 1), ("net of start-up", 2)):
            xs = [v[idx] for v in vals if v[idx] is not None and v[idx] > 0]
            if len(xs) < len(vals):
                continue
            lo, hi = min(xs), max(xs)
            verdict = "meets" if hi / lo <= FLAT else "MISSES"
            out.append(f"- {client}, {what}: from {lo:.1f} to {hi:.1f} across {names}: "
                       f"max/min = {hi / lo:.2f} ({verdict} the ≤ {FLAT:.2f} target{partial})")
    if key == "B":
        out += connect_split(runs)
    out.append("")
    return out


def connect_split(runs):
    """B10000 and B10000L open the same 10,000 connections and differ by 80,000 keep-alive requests:
    their difference is the cost of a keep-alive request at c=10,000, and the rest of B10000 is
    the cost of the 10,000 connects (with their closes)."""
    out = []
    for client in ("spool", "hyper"):
        small, large = medians(runs, "B10000", client), medians(runs, "B10000L", client)
        if not (small and large):
            continue
        per_req = (large["cpu_s"] - small["cpu_s"]) / (large["n"] - small["n"])
        per_conn = (small["cpu_s"] - small["n"] * per_req) / 10_000
        out.append(f"- {client}, split of c=10,000 (B10000L − B10000): {per_req * 1e6:.1f} µs per keep-alive "
                   f"request, {per_conn * 1e6:.1f} µs per connection (connect + close)")
    return out


def memory_md(memory):
    if not memory:
        return []
    out = ["### Memory against the length of the URL list (c=50, keep-alive /small?i=N, distinct URLs)", "",
           "CPU here is GNU time's user+sys, in 10 ms steps: read it for the long lists only.", "",
           "| client | lines | ok | peak RSS MiB | CPU µs/req | wall s | exit | load (1/5/15 min) before |",
           "|---|--:|--:|--:|--:|--:|--:|---|"]
    for m in memory:
        per = f"{m['cpu_s'] * 1e6 / m['ok']:.1f}" if m["ok"] else "—"
        out.append(f"| {m['client']} | {m['lines']:,} | {m['ok']:,} | {m['rss_kib'] / 1024:.1f} | {per} | "
                   f"{m['wall_s']:.1f} | {m['rc']} | {m['load']} |")
    out.append("")
    for client in sorted({m["client"] for m in memory}):
        rows = {m["lines"]: m for m in memory if m["client"] == client}
        small, big = min(rows), max(rows)
        if small == big:
            continue
        grew = (rows[big]["rss_kib"] - rows[small]["rss_kib"]) / 1024
        complete = rows[big]["ok"] == big and rows[small]["ok"] == small
        verdict = ("meets" if grew <= RSS_BUDGET_MIB else "MISSES") if complete else "INCOMPLETE RUN:"
        target = (f" ({verdict} the ≤ {RSS_BUDGET_MIB} MiB target for 10,000,000 vs 1,000 lines)"
                  if big >= 10_000_000 and small <= 1000 else "")
        out.append(f"- {client}: {big:,} lines cost {grew:+.1f} MiB peak RSS over {small:,} lines{target}")
    out.append("")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--command", default="")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    runs, envs, loads, memory = load_inputs(args.files)
    out = ["# Scaling run", ""]
    if envs:
        e = envs[0]
        out.append(f"Machine: {e['cpus']} CPUs ({e['cpu_model']}), kernel {e['kernel']}, "
                   f"{e.get('mem_total_kib', 0) // 1048576} GiB; client pinned to CPU {e.get('client_cpu', 1)}, "
                   f"nginx worker on CPU 0; started {e['date']}; reps = {e.get('reps')} (medians shown).")
    else:  # memory runs only: describe this machine
        model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        out.append(f"Machine: {os.cpu_count()} CPUs ({model}), kernel {platform.release()}; client pinned to "
                   f"CPU 1, nginx worker on CPU 0; summarised {dt.datetime.now().astimezone().isoformat(timespec='seconds')}.")
    if args.command:
        out.append(f"Command: `{args.command}`")
    out += ["", "Other work shared this 2-core machine: the load averages are written beside each row. "
            "CPU µs/req and RSS are the figures to judge by; wall time and req/s move with the load.", ""]
    out += fixed_md(runs, loads)
    for key in SERIES:
        out += series_md(runs, loads, key)
    out += memory_md(memory)
    if args.files:
        out.append("Raw data: " + ", ".join(f"`raw/{p.rsplit('/', 1)[-1]}`" for p in sorted(args.files)))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
