# Sourced by bench/compare/run.sh and bench/scaling/run.sh: gets the shared harness ready to run.
#
# The shared harness (../shared/bench, read its README) is read-only, so it is copied to a scratch
# directory, $WORK, kept between runs so that its one-time setup (apt packages, an aiohttp venv, release
# builds of the peers) is done once. Then `fetch` is built, and $FETCH names it.
#
# Expects ROOT (the checkout); honours SHARED_BENCH and BENCH_WORK.
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
WORK=${BENCH_WORK:-/tmp/spool-bench}

[[ -d $SHARED ]] || { echo "bench: no shared bench at $SHARED (set SHARED_BENCH)" >&2; exit 1; }
if [[ ! -d $WORK ]] || [[ $SHARED/run.py -nt $WORK/run.py ]]; then
    rm -rf "$WORK"
    cp -r "$SHARED" "$WORK"
    chmod -R u+w "$WORK"
fi
"$WORK/setup.sh" >&2

(cd "$ROOT" && cargo build --release --bin fetch >&2)
FETCH=$ROOT/target/release/fetch
