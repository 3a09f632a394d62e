#!/usr/bin/env bash
# Runs spool's `fetch` beside the peers (hyper, reqwest, aiohttp, curl) and the ceilings (wrk, h2load)
# against one local nginx, with the harness in ../../../shared/bench (read its README).
#
#   bench/compare/run.sh                 # all scenarios, 3 runs each (~6 min)
#   bench/compare/run.sh -s S1,S3        # some scenarios; any other run.py option passes through
#
# The shared harness is read-only, so it is copied to a scratch directory (kept between runs, so its
# one-time setup — apt packages, an aiohttp venv, release builds of the peers — is done once).
# Client CPU µs/request and peak RSS are the figures to compare; wall-clock req/s moves a lot on a
# shared 2-core machine (see the harness README).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$ROOT/bench/harness.sh"

cd "$WORK"
# --per-host {concurrency}: the one-host scenarios must not be limited by a per-host connection cap.
exec ./run.sh --client "spool=$FETCH -i {input} -c {concurrency} --per-host {concurrency} --timeout {timeout} --no-progress" \
    -c spool,hyper,reqwest,aiohttp,curl,h2load,wrk "$@"
