#!/bin/sh
# `cmake --install` of the build directory BUILD into a staging prefix, then checks what was
# installed: the release library with its SONAME, the tools, the header, the licences, and a
# syscollector.pc that pkg-config reads and that builds and links a C program against the
# installed library, which then runs and logs the expected version.
#   install_tree.sh BUILD PROBE_SOURCE VERSION
set -eu
build=$1 probe=$2 version=$3
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cmake --install "$build" --prefix "$stage/usr" > "$stage/install.log"
lib=$(find "$stage/usr" -name libsyscollector.so -type f)
[ -n "$lib" ] || { echo "no libsyscollector.so installed"; cat "$stage/install.log"; exit 1; }
objdump -p "$lib" | grep -q 'SONAME *libsyscollector.so' || { echo "$lib: no SONAME"; exit 1; }
for f in bin/syscollector bin/syscollector-manager include/syscollector.h \
         share/doc/syscollector/COPYING share/doc/syscollector/THIRD-PARTY-LICENSES.md; do
    [ -e "$stage/usr/$f" ] || { echo "missing $f"; exit 1; }
done
pc=$(find "$stage/usr" -name syscollector.pc)
[ -n "$pc" ] || { echo "no syscollector.pc installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
# The .pc names the real prefix; point pkg-config at the staging tree.
have=$(pkg-config --define-variable=prefix="$stage/usr" --modversion syscollector)
[ "$have" = "$version" ] || { echo "syscollector.pc says version $have, expected $version"; exit 1; }
cflags=$(pkg-config --define-variable=prefix="$stage/usr" --cflags syscollector)
libs=$(pkg-config --define-variable=prefix="$stage/usr" --libs syscollector)
# shellcheck disable=SC2086 # word splitting of the flags is intended
cc -Wall -Werror -DPROBE_LINKED -o "$stage/probe" "$probe" $cflags $libs -ldl -Wl,-rpath,"$(dirname "$lib")"
# Linked against the installed library (NEEDED by SONAME), and loads it.
objdump -p "$stage/probe" | grep -q 'NEEDED *libsyscollector.so' || { echo "probe does not link libsyscollector.so"; exit 1; }
line=$("$stage/probe" "$lib")
case "$line" in
"libsyscollector $version "*) echo "installed library logs: $line" ;;
*) echo "installed library logged '$line', expected its version $version"; exit 1 ;;
esac
