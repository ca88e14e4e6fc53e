#!/bin/sh
# The fuzz targets' smoke run (the `fuzz_smoke` ctest): builds every target once with
# cargo-fuzz (nightly, AddressSanitizer, debug assertions), seeds the corpora from the
# fixtures (fuzz/seed.sh), then runs each target for SECONDS seconds of libFuzzer, one
# after the other. Fails when a target crashes, panics, leaks, times out or does not run;
# the input that did it is kept in BUILD_DIR/fuzz-artifacts/<target>/.
#   fuzz/smoke.sh [BUILD_DIR] [SECONDS]      (defaults: build, 4 s; ctest gives 3 s: 30 targets in about 2 min)
# Everything goes below BUILD_DIR: tools/ (cargo-fuzz, fuzz/setup.sh), fuzz-target/
# (cargo's output), fuzz-corpus/, fuzz-artifacts/, fuzz-logs/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${1:-"$repo/build"}
case $build in /*) ;; *) build="$(pwd)/$build" ;; esac
secs=${2:-${FUZZ_SMOKE_SECONDS:-4}}

sh "$here/setup.sh" "$build/tools"
PATH="$build/tools/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export PATH

target_dir="$build/fuzz-target"
corpus="$build/fuzz-corpus"
artifacts="$build/fuzz-artifacts"
logs="$build/fuzz-logs"
scratch="$build/fuzz-scratch"
rm -rf "$scratch"
mkdir -p "$corpus" "$artifacts" "$logs" "$scratch"
# The targets' scratch files (queues, file copies of inputs) stay in the build directory.
SYSCOLLECTOR_FUZZ_SCRATCH=$scratch
export SYSCOLLECTOR_FUZZ_SCRATCH
sh "$here/seed.sh" "$corpus"

cd "$repo"
start=$(date +%s)
echo "== cargo +nightly fuzz build (all targets)"
cargo +nightly fuzz build --debug-assertions --target-dir "$target_dir"
echo "== built in $(($(date +%s) - start)) s"
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin="$target_dir/$host/release"

failed=""
count=0
start=$(date +%s)
for t in $(cargo +nightly fuzz list); do
    count=$((count + 1))
    mkdir -p "$artifacts/$t" "$corpus/$t"
    log="$logs/$t.log"
    if "$bin/$t" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$t/" "$corpus/$t" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        if [ -z "$runs" ] || [ "$runs" -eq 0 ]; then
            echo "FAIL $t: libFuzzer ran no input (see $log)"
            failed="$failed $t"
        else
            echo "ok   $t: $runs executions in ${secs} s"
        fi
    else
        echo "FAIL $t (exit $?): the end of $log:"
        tail -n 40 "$log"
        failed="$failed $t"
    fi
done
echo "== $count targets run in $(($(date +%s) - start)) s"
if [ -n "$failed" ]; then
    echo "fuzz/smoke.sh: failed:$failed (inputs in $artifacts)" >&2
    exit 1
fi
