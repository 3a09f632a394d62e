#!/usr/bin/env bash
# Soak and famine runs for `fetch` (issue 16). Needs a release build (cargo build --release) and,
# for the famine run, nginx. Prints one figure line per run; README.md says what they mean.
#
#   bench/soak/run.sh soak [N]     # N keep-alive requests (default 1,000,000) on the built-in demo,
#                                  # beside a N/10 run: peak RSS of both, open fds sampled every 0.5 s
#   bench/soak/run.sh famine       # 10,000 URLs over 100 nginx origins, -c 1000, under ulimit -n 256
#   bench/soak/run.sh all          # both
#
# Loopback only. Runs at nice 10 on whatever CPU is free; figures from a shared machine are noisy in
# time (req/s), not in counts, RSS or fds.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FETCH=${FETCH:-$ROOT/target/release/fetch}
[[ -x $FETCH ]] || { echo "build first: cargo build --release" >&2; exit 2; }
mode=${1:-all}
WORK=$(mktemp -d /tmp/spool-soak.XXXXXX)
chmod 755 "$WORK" # nginx workers may run as another user
trap 'stop_nginx; rm -rf "$WORK"' EXIT
NGINX_PID=

stop_nginx() {
    if [[ -n $NGINX_PID ]]; then kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; fi
}

# Runs fetch with "$@" in the background, sampling its open descriptors; prints the summary line,
# then "fds: min=.. max=.. samples=..".
sampled() {
    local log=$WORK/stderr.$$ fds=$WORK/fds.$$
    : >"$fds"
    nice -n 10 "$FETCH" "$@" 2>"$log" >/dev/null &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        ls "/proc/$pid/fd" 2>/dev/null | wc -l >>"$fds" || true
        sleep 0.5
    done
    wait "$pid" || true
    tail -1 "$log"; echo
    # The first and last samples can catch start-up or exit; the run's steady state is in between.
    awk 'NF && $1 > 0 { n++; v[n] = $1 } END {
        lo = 1e9; hi = 0
        for (i = 2; i < n; i++) { if (v[i] < lo) lo = v[i]; if (v[i] > hi) hi = v[i] }
        if (n < 3) { lo = v[1]; hi = v[n] }
        printf "fds: min=%d max=%d samples=%d\n", lo, hi, n }' "$fds"
}

soak() {
    local n=${1:-1000000}
    echo "== soak: --demo $((n / 10)) and --demo $n (keep-alive, one thread, -c 256) =="
    sampled --demo $((n / 10)) --no-progress
    sampled --demo "$n" --no-progress
}

famine() {
    local nginx=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
    [[ -x $nginx ]] || { echo "famine needs nginx" >&2; exit 2; }
    mkdir -p "$WORK/nginx/html" "$WORK/nginx/logs"
    head -c 1000 /dev/zero | tr '\0' 'x' >"$WORK/nginx/html/f"
    # 100 consecutive ports below the usual ephemeral range; another base if one is taken.
    local base listens try
    for try in 1 2 3 4 5; do
        base=$((10000 + RANDOM % 20000)) listens=""
        for i in $(seq 0 99); do listens+="    listen 127.0.0.1:$((base + i));"$'\n'; done
        cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    server {
$listens        root $WORK/nginx/html;
    }
}
CONF
        "$nginx" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>>"$WORK/nginx/start.log" &
        NGINX_PID=$!
        sleep 1
        if kill -0 "$NGINX_PID" 2>/dev/null; then break; fi
        NGINX_PID=
    done
    [[ -n $NGINX_PID ]] || { cat "$WORK/nginx/start.log" >&2; echo "nginx did not start" >&2; exit 1; }
    for i in $(seq 0 9999); do echo "http://127.0.0.1:$((base + i % 100))/f"; done >"$WORK/urls"
    echo "== famine: 10,000 URLs over 100 origins, -c 1000, ulimit -n 256 =="
    (ulimit -n 256 && nice -n 10 "$FETCH" -i "$WORK/urls" -c 1000 --no-progress -o /dev/null 2>&1 | tail -1; echo)
}

case $mode in
    soak) soak "${2:-1000000}" ;;
    famine) famine ;;
    all) soak "${2:-1000000}"; famine ;;
    *) echo "usage: bench/soak/run.sh soak [N] | famine | all" >&2; exit 2 ;;
esac
