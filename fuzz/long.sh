#!/bin/sh
# The longer run behind fuzz/RESULTS.md: each target in turn (niced), until 10^7 executions
# or SECONDS seconds, whichever comes first, on the corpora fuzz/smoke.sh left in BUILD_DIR;
# prints one "target executions seconds result" line per target.
#   fuzz/long.sh [BUILD_DIR] [SECONDS] [TARGET...]     (defaults: build, 600 s, all)
# Run fuzz/smoke.sh BUILD_DIR first (it builds the targets and seeds the corpora).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${1:-"$repo/build"}
case $build in /*) ;; *) build="$(pwd)/$build" ;; esac
secs=${2:-600}
[ $# -ge 2 ] && shift 2 || shift $#
PATH="$build/tools/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin="$build/fuzz-target/$host/release"
SYSCOLLECTOR_FUZZ_SCRATCH="$build/fuzz-scratch"
export SYSCOLLECTOR_FUZZ_SCRATCH
mkdir -p "$SYSCOLLECTOR_FUZZ_SCRATCH"
cd "$repo"
targets=${*:-$(cargo +nightly fuzz list)}
for t in $targets; do
    mkdir -p "$build/fuzz-artifacts/$t" "$build/fuzz-corpus/$t" "$build/fuzz-logs"
    log="$build/fuzz-logs/$t.long.log"
    s=$(date +%s)
    if nice -n 19 "$bin/$t" -runs=10000000 -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t/" "$build/fuzz-corpus/$t" \
        >"$log" 2>&1; then
        result=ok
    else
        result="CRASH(see $log)"
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "$t ${runs:-0} $(($(date +%s) - s)) $result"
done
