#!/usr/bin/env bash
# Where does S3's wall time go? Runs one client over the harness's S3 list (10,000 × /slow?ms=1000,
# c=10,000) against the harness's nginx (start it first: $BENCH_WORK/server/server.sh start) and
# prints, per run:
#   - load average, wall / user / sys / peak RSS (GNU time), and fetch's own wall_s when present
#     (the gap is the teardown after the last response: closing every pooled connection, exit);
#   - kernel TCP counter deltas (nstat): ListenOverflows / ListenDrops / TCPSynRetrans / RetransSegs
#     show whether nginx's accept queue overflowed and connects waited for a 1 s SYN retransmit;
#   - the distribution of per-request times from the JSON lines ("ms"): with every request started
#     at t≈0, p0 ≈ 1 s + when the first request reached the server, max ≈ when the last one did.
#
#   bench/scaling/s3-probe.sh [RUNS] -- CLIENT [ARGS...]      # the URL list is appended as -i FILE
#   bench/scaling/s3-probe.sh 3 -- target/release/fetch -c 10000 --per-host 10000 --timeout 60 --no-progress
#   bench/scaling/s3-probe.sh 3 -- /tmp/spool-bench/peers/target/release/hyper-fetch -c 10000 --timeout 60
set -euo pipefail
runs=${1:-3}
shift
[[ ${1:-} == -- ]] && shift
(( $# )) || { echo "usage: s3-probe.sh [RUNS] -- CLIENT [ARGS...]" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)"
dir=$(mktemp -d /tmp/s3-probe.XXXXXX)
trap 'rm -rf "$dir"' EXIT
awk 'BEGIN { for (i = 0; i < 10000; i++) print "http://127.0.0.1:18080/slow?ms=1000" }' >"$dir/urls"
for ((r = 1; r <= runs; r++)); do
    nstat -n >/dev/null
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    taskset -c "${CLIENT_CPU:-1}" /usr/bin/time -f "wall %e s, user %U s, sys %S s, peak RSS %M KiB" \
        -o "$dir/time" "$@" -i "$dir/urls" >"$dir/out" 2>"$dir/err" || true
    tcp=$(nstat 2>/dev/null | awk '/ListenOverflows|ListenDrops|TCPSynRetrans|RetransSegs|TCPReqQFullDrop/ { printf "%s=%s ", $1, $2 }')
    echo "run $r: load $load; $(cat "$dir/time"); $(grep -o 'ok=[0-9]*' "$dir/err" | head -1)" \
        "$(grep -o 'wall_s=[0-9.]*' "$dir/err" | head -1 | sed 's/^/client /')"
    echo "    tcp: ${tcp:-no retransmits, no listen overflows}"
    python3 - "$dir/out" <<'PY'
import json, sys
ms = []
for line in open(sys.argv[1]):
    try:
        ms.append(float(json.loads(line)["ms"]))
    except (ValueError, KeyError, TypeError):
        pass
ms.sort()
if ms:
    q = lambda p: ms[min(len(ms) - 1, int(p * len(ms)))]
    print(f"    per-request ms: n={len(ms)} p0={ms[0]:.0f} p10={q(.1):.0f} p50={q(.5):.0f} "
          f"p90={q(.9):.0f} p99={q(.99):.0f} max={ms[-1]:.0f}")
PY
    sleep 3   # let the last run's sockets leave
done
