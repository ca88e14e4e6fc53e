#!/bin/sh
# What the fuzz targets and the sanitizer builds need, checked or installed without
# touching the system: a nightly Rust toolchain with its rust-src component (TSan rebuilds
# the standard library, `-Zbuild-std`), and cargo-fuzz 0.13.2 in DIR/bin (built with the
# default toolchain from crates.io). CMake's configure step runs it; fuzz/smoke.sh and
# c_tests/sanitize.sh run it again (quick when everything is there).
#   fuzz/setup.sh DIR      -> DIR/bin/cargo-fuzz
#   fuzz/setup.sh          -> the toolchain checks only (c_tests/sanitize.sh)
# Without a nightly toolchain it fails with one line saying how to get one: the fuzz and
# sanitizer tests are part of the suite, never skipped.
set -eu
dir=${1:-}
version=0.13.2
if ! command -v rustup >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/rustup" ]; then
    PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz/setup.sh: no nightly Rust toolchain (the fuzz and sanitizer tests need one): install it with \`rustup toolchain install nightly --component rust-src\`" >&2
    exit 1
fi
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
    echo "fuzz/setup.sh: adding rust-src to the nightly toolchain (TSan builds the standard library)"
    if ! rustup component add rust-src --toolchain nightly; then
        echo "fuzz/setup.sh: the nightly toolchain has no rust-src and it could not be added: run \`rustup component add rust-src --toolchain nightly\`" >&2
        exit 1
    fi
fi
[ -n "$dir" ] || exit 0
if [ -x "$dir/bin/cargo-fuzz" ] && "$dir/bin/cargo-fuzz" --version 2>/dev/null | grep -q " $version\$"; then
    exit 0
fi
echo "fuzz/setup.sh: installing cargo-fuzz $version into $dir"
cargo install --quiet --locked --version "$version" --root "$dir" cargo-fuzz
"$dir/bin/cargo-fuzz" --version
