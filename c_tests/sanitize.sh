#!/bin/sh
# The C tests under a sanitizer, the Rust side instrumented too (the `c_sanitize_asan` and
# `c_sanitize_tsan` ctests, label `sanitize`):
#   c_tests/sanitize.sh asan|tsan BUILD_DIR
# builds libsyscollector.so with `cargo +nightly` and `-Zsanitizer=address` (and the
# bundled SQLite with -fsanitize=address) or `-Zsanitizer=thread` (with `-Zbuild-std`, as
# TSan needs every line of the standard library instrumented) into
# BUILD_DIR/sanitize-<kind>/, compiles test_symbols, test_lifecycle, test_query and
# test_bad_args with gcc's -fsanitize=address / -fsanitize=thread against it, and runs them.
# Any report fails the run (halt_on_error, exitcode 66 for TSan races).
set -eu
kind=${1:?usage: sanitize.sh asan|tsan BUILD_DIR}
build=${2:?usage: sanitize.sh asan|tsan BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
case $build in /*) ;; *) build="$(pwd)/$build" ;; esac
sh "$repo/fuzz/setup.sh"
PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

host=$(rustc +nightly -vV | sed -n 's/^host: //p')
out="$build/sanitize-$kind"
mkdir -p "$out"
case $kind in
asan)
    rustflags="-Zsanitizer=address"
    cflags="-fsanitize=address -fno-omit-frame-pointer"
    build_std=""
    # The bundled SQLite (built by the cc crate for the target) is instrumented too.
    export "CFLAGS_$(printf '%s' "$host" | tr '-' '_')=-fsanitize=address -fno-omit-frame-pointer"
    ;;
tsan)
    rustflags="-Zsanitizer=thread"
    cflags="-fsanitize=thread"
    build_std="-Zbuild-std"
    ;;
*)
    echo "sanitize.sh: unknown sanitizer $kind (asan or tsan)" >&2
    exit 2
    ;;
esac

cd "$repo"
start=$(date +%s)
echo "== cargo +nightly build --lib ($kind)"
# --target keeps RUSTFLAGS off build scripts and proc macros.
# shellcheck disable=SC2086
RUSTFLAGS="$rustflags -Cdebuginfo=1" CARGO_TARGET_DIR="$out/cargo" \
    cargo +nightly build --locked --release --lib --no-default-features $build_std --target "$host"
lib="$out/cargo/$host/release"
echo "== built in $(($(date +%s) - start)) s"

extra=""
if [ "$kind" = tsan ]; then
    # Rust's LLVM instruments memset/memcpy/memmove as calls to __tsan_mem*, which gcc's
    # libtsan does not have: the executables define them (exported for the library) as the
    # libc functions, which libtsan intercepts and checks.
    cat >"$out/tsan_mem.c" <<'SHIM'
#include <string.h>
void *__tsan_memset(void *d, int c, size_t n) { return memset(d, c, n); }
void *__tsan_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
void *__tsan_memmove(void *d, const void *s, size_t n) { return memmove(d, s, n); }
SHIM
    extra="$out/tsan_mem.c -rdynamic"
fi
# test_symbols loads the library with dlopen() only; the others link it (RUNPATH).
# shellcheck disable=SC2086
cc $cflags -g -O1 -Wall -Wextra -Werror -I"$repo/include" "$here/test_symbols.c" $extra \
    -o "$out/test_symbols" -ldl
for t in test_lifecycle test_query test_bad_args; do
    # shellcheck disable=SC2086
    cc $cflags -g -O1 -Wall -Wextra -Werror -I"$repo/include" "$here/$t.c" $extra -o "$out/$t" \
        -L"$lib" -Wl,--enable-new-dtags,-rpath,"$lib" -lsyscollector -pthread
done

export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1"
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1"
failed=""
for t in test_symbols test_lifecycle test_query test_bad_args; do
    echo "== $t ($kind)"
    s=$(date +%s)
    if [ "$t" = test_symbols ]; then
        set -- "$lib/libsyscollector.so" "$repo/include/syscollector.h"
    else
        set --
    fi
    if LD_LIBRARY_PATH="$lib" "$out/$t" "$@"; then
        echo "== $t ($kind): passed in $(($(date +%s) - s)) s"
    else
        echo "== $t ($kind): FAILED (exit $?)"
        failed="$failed $t"
    fi
done
if [ -n "$failed" ]; then
    echo "sanitize.sh: $kind failed:$failed" >&2
    exit 1
fi
