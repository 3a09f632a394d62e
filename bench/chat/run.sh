#!/usr/bin/env bash
# Runs the three chat servers of the same design — spool (examples/chat), tokio current_thread
# (src/bin/chat-tokio.rs) and asyncio (chat_asyncio.py) — one after another in one run, under the
# same load, and prints one markdown table.
#
#   bench/chat/run.sh                    # 10,000 users; 10 and 100 senders x 1 line/s x 10 s
#   USERS=2000 SENDERS="10" bench/chat/run.sh
#   SERVERS="spool tokio" REPS=3 bench/chat/run.sh   # only these, each three times (interleaved)
#   SERVERS="spool spool-uring" bench/chat/run.sh     # spool's chat on epoll and on io_uring
#
# Each server and the load tool are separate processes with USERS sockets each, so the open-file
# limit must allow USERS + a few for both (the script raises the soft limit to the hard one).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
USERS="${USERS:-10000}"
SENDERS="${SENDERS:-10 100}"
RATE="${RATE:-1}"
SECS="${SECS:-10}"
THREADS="${THREADS:-2}"
SERVERS="${SERVERS:-spool tokio asyncio}"
REPS="${REPS:-1}"
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((USERS + 100)) ]; then
    echo "run.sh: the open-file limit $(ulimit -n) is below USERS+100; lower USERS" >&2
    exit 2
fi

(cd "$root" && cargo build --release --example chat)
(cd "$here" && cargo build --release)
load="$here/target/release/chat-load"
declare -A cmd=(
    [spool]="$root/target/release/examples/chat 127.0.0.1:7200"
    [spool-uring]="env SPOOL_DRIVER=io_uring $root/target/release/examples/chat 127.0.0.1:7203"
    [tokio]="$here/target/release/chat-tokio 127.0.0.1:7201"
    [asyncio]="python3 $here/chat_asyncio.py 127.0.0.1:7202"
)
declare -A port=([spool]=7200 [tokio]=7201 [asyncio]=7202 [spool-uring]=7203)

out="$here/results/$(date +%Y%m%d-%H%M%S).txt"
mkdir -p "$here/results"
for s in $SENDERS; do
    for _rep in $(seq "$REPS"); do
        for server in $SERVERS; do
            ${cmd[$server]} 2>/dev/null &
            pid=$!
            sleep 1
            line="$("$load" --addr "127.0.0.1:${port[$server]}" --pid "$pid" --users "$USERS" \
                --senders "$s" --rate "$RATE" --secs "$SECS" --threads "$THREADS")"
            kill "$pid"
            wait "$pid" 2>/dev/null || true
            echo "server=$server $line" | tee -a "$out" >&2
            sleep 2
        done
    done
done

python3 - "$out" <<'PY'
import sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1])]
print("| server | senders | delivered / expected | dropped | server CPU s | p50 ms | p99 ms | max ms | idle KiB/user | peak RSS MiB |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for r in rows:
    print(f"| {r['server']} | {r['senders']} | {r['delivered']} / {r['expected']} | {r['dropped']} | "
          f"{r['server_cpu_s']} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} | "
          f"{r['server_idle_kib_per_user']} | {r['server_rss_peak_mib']} |")
PY
