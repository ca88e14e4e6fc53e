#!/bin/sh
# Installs the tools of the portable release build into DIR without touching the system:
# cargo-zigbuild and zig, both from PyPI (`pip install --target`, which Debian's
# externally-managed Python allows). CMake's configure step runs it when either is missing.
#   packaging/setup-tools.sh DIR      -> DIR/bin/cargo-zigbuild, DIR/ziglang/zig
# Versions: cargo-zigbuild 0.24.1 (also `cargo install cargo-zigbuild --locked`), zig 0.17.1.
set -eu
dir=${1:?usage: setup-tools.sh DIR}
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
    echo "setup-tools.sh: python3 is missing (Debian: apt-get install python3-pip), needed to fetch cargo-zigbuild and zig from PyPI" >&2
    exit 1
fi
if ! "$python" -m pip --version >/dev/null 2>&1; then
    echo "setup-tools.sh: pip is missing (Debian: apt-get install python3-pip), needed to fetch cargo-zigbuild and zig from PyPI" >&2
    exit 1
fi
mkdir -p "$dir"
"$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --root-user-action=ignore --upgrade --target "$dir" cargo-zigbuild==0.24.1 ziglang==0.17.1
test -x "$dir/bin/cargo-zigbuild" && test -x "$dir/ziglang/zig"
echo "installed $("$dir/bin/cargo-zigbuild" --version) and zig $("$dir/ziglang/zig" version) into $dir"
