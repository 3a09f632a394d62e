#!/usr/bin/env bash
# Scaling series for spool's `fetch` (issue 7): CPU per request against the URL count and the
# concurrency, and peak RSS against the length of the URL list. Read README.md first.
#
#   bench/scaling/run.sh series [run.py options]  # series A (URL count) and B (concurrency), with hyper
#   bench/scaling/run.sh memory [LINES...]         # peak RSS for lists of LINES URLs (default 1000 1000000 10000000)
#   bench/scaling/run.sh all                       # both, then one results/<stamp>.md
#
# Series go through the shared harness (../../../shared/bench, read-only; copied to BENCH_WORK, as
# bench/compare/run.sh does) with this folder's scaling.toml as its config. `memory` runs fetch
# directly, pinned to the client CPU under /usr/bin/time -v, against the harness's nginx.
# Every run appends its figures to a results/<stamp>.md through summarize.py.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$ROOT/bench/harness.sh"
LISTS=${SCALING_LISTS:-/tmp/spool-scaling}    # generated URL lists (10M lines = ~400 MB)
CPU=${CLIENT_CPU:-1}
# hyper also runs the memory lists up to this length (its 10M-line run adds minutes, not insight).
HYPER_MAX_LINES=${HYPER_MAX_LINES:-1000000}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$HERE/results

mode=${1:-all}
shift || true

HYPER=$WORK/peers/target/release/hyper-fetch
mkdir -p "$OUT/raw"

# --per-host {concurrency}: one host, so a per-host cap must not hide what the concurrency does.
SPOOL_CMD="$FETCH -i {input} -c {concurrency} --per-host {concurrency} --timeout {timeout} --no-progress"

SCENARIOS=${SCALING_SCENARIOS:-A1,A1k,A10k,A50k,A200k,B10,B100,B1000,B10000,B10000L}

# One harness invocation per scenario, so that the machine's load (other work shares it) can be
# written down beside each: results/raw/load-<stamp>.tsv has scenario, load before, load after.
series() {
    ulimit -n "$(ulimit -Hn)"
    local started=0
    if ! "$WORK/server/server.sh" status >/dev/null 2>&1; then
        "$WORK/server/server.sh" start >&2
        started=1
    fi
    local load=$OUT/raw/load-$STAMP.tsv sid before
    for sid in ${SCENARIOS//,/ }; do
        before=$(cut -d' ' -f1-3 /proc/loadavg)
        (cd "$WORK" && ./run.sh --config "$HERE/scaling.toml" --out "$OUT/raw" \
            --client "spool=$SPOOL_CMD" -c spool,hyper -s "$sid" "$@")
        printf '%s\t%s\t%s\n' "$sid" "$before" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$load"
    done
    if (( started )); then "$WORK/server/server.sh" stop >&2; fi
}

# One memory run: client name, list length; prints a TSV line (see summarize.py for the columns).
memory_run() {
    local name=$1 lines=$2 list=$LISTS/urls-$2.txt tf err
    tf=$(mktemp) err=$(mktemp)
    local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
    local argv
    case $name in
        spool) argv=("$FETCH" -i "$list" -c 50 --per-host 50 --timeout 30 --no-progress -o /dev/null) ;;
        hyper) argv=("$HYPER" -i "$list" -c 50 --timeout 30 -o /dev/null) ;;
    esac
    local t0 t1 rc=0
    t0=$(date +%s.%N)
    taskset -c "$CPU" /usr/bin/time -v -o "$tf" -- "${argv[@]}" >/dev/null 2>"$err" || rc=$?
    t1=$(date +%s.%N)
    local rss user sys ok
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tf")
    user=$(sed -n 's/.*User time (seconds): //p' "$tf")
    sys=$(sed -n 's/.*System time (seconds): //p' "$tf")
    ok=$(grep -o '\bok=[0-9]*' "$err" | tail -1 | cut -d= -f2)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$lines" "${ok:-0}" "$rss" "$user" "$sys" \
        "$(echo "$t1 - $t0" | bc)" "$rc" "$load"
    rm -f "$tf" "$err"
}

memory() {
    local sizes=("$@")
    (( ${#sizes[@]} )) || sizes=(1000 1000000 10000000)
    mkdir -p "$LISTS"
    for n in "${sizes[@]}"; do
        # Distinct URLs (a query string per line), so nothing can be shared between lines.
        [[ -s $LISTS/urls-$n.txt ]] ||
            awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) print "http://127.0.0.1:18080/small?i=" i }' \
                >"$LISTS/urls-$n.txt"
    done
    ulimit -n "$(ulimit -Hn)"
    local started=0
    if ! "$WORK/server/server.sh" status >/dev/null 2>&1; then
        "$WORK/server/server.sh" start >&2
        started=1
    fi
    local tsv=$OUT/raw/memory-$STAMP.tsv
    : >"$tsv"
    for n in "${sizes[@]}"; do
        memory_run spool "$n" | tee -a "$tsv" >&2
        if (( n <= HYPER_MAX_LINES )); then
            memory_run hyper "$n" | tee -a "$tsv" >&2
        fi
        sleep 1
    done
    if (( started )); then "$WORK/server/server.sh" stop >&2; fi
}

since=$(mktemp)   # results newer than this file belong to this invocation
trap 'rm -f "$since"' EXIT
case $mode in
    series) series "$@" ;;
    memory) memory "$@" ;;
    all) series; memory ;;
    *) echo "usage: run.sh series|memory|all [options]" >&2; exit 2 ;;
esac
mapfile -t new < <(find "$OUT/raw" -newer "$since" \( -name 'results-2*.json' -o -name 'memory-*.tsv' -o -name 'load-*.tsv' \))
python3 "$HERE/summarize.py" --command "bench/scaling/run.sh $mode $*" "${new[@]}" >"$OUT/$STAMP.md"
echo "run.sh: wrote $OUT/$STAMP.md" >&2
