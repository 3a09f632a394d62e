#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, one after another on one core, and
# exits non-zero if any of them found a crash, a hang (an input slower than TIMEOUT s) or an
# out-of-memory (over RSS_MB). Needs a nightly toolchain and cargo-fuzz:
#     rustup toolchain install nightly && cargo install cargo-fuzz
#     fuzz/run.sh 30                    # 30 s per target
#     fuzz/run.sh 600 response chunked  # two targets, 10 min each
# New interesting inputs go to fuzz/work/<target>/ (not committed; the committed seeds in
# fuzz/corpus/<target>/ are only read), failing inputs to fuzz/artifacts/<target>/, logs to
# fuzz/logs/<target>.log. A summary line per target reports executions and the corpus size.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
SECONDS_EACH=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
TIMEOUT=${TIMEOUT:-10}
RSS_MB=${RSS_MB:-2048}
TOOLCHAIN=${FUZZ_TOOLCHAIN:-+nightly}

if (($#)); then targets=("$@"); else mapfile -t targets < <(cargo "$TOOLCHAIN" fuzz list); fi

# Debug assertions on: an arithmetic overflow is a finding too.
mkdir -p logs
echo "fuzz/run.sh: building the targets"
cargo "$TOOLCHAIN" fuzz build --debug-assertions >logs/build.log 2>&1 \
    || { tail -40 logs/build.log; echo "fuzz/run.sh: build failed" >&2; exit 2; }
failed=()
for t in "${targets[@]}"; do
    mkdir -p "work/$t" "corpus/$t"
    log="logs/$t.log"
    printf 'fuzz/run.sh: %-12s %s s ... ' "$t" "$SECONDS_EACH"
    cargo "$TOOLCHAIN" fuzz run --debug-assertions "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" -rss_limit_mb="$RSS_MB" \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    corpus=$(find "work/$t" -type f | wc -l)
    if ((rc == 0)); then
        echo "ok: ${execs:-?} executions, corpus $corpus"
    else
        failed+=("$t")
        why=$(grep -m1 -oE 'panicked at [^ ]+|ERROR: libFuzzer: [a-z-]+' "$log" || echo "exit $rc")
        echo "FAILED ($why): see fuzz/$log and fuzz/artifacts/$t/"
    fi
done

if ((${#failed[@]})); then
    echo "fuzz/run.sh: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz/run.sh: all ${#targets[@]} targets ran ${SECONDS_EACH} s without a crash, hang or OOM"
