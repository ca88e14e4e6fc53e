#!/bin/sh
# Builds the Debian package that replaces the Wazuh agent's C++ syscollector module in place:
#   packaging/deb/build-deb.sh DIST_DIR OUT_DIR [VERSION]
# DIST_DIR holds the release artifact (libsyscollector.so of `cargo zigbuild --profile dist`,
# see README "Build"); the package is written to OUT_DIR/syscollector-rs_VERSION-1_ARCH.deb and
# its path printed. Only dpkg-deb is needed (no debhelper), so it runs on any Debian/Ubuntu.
#
# What the package does (maintainer scripts next to this file):
#  * preinst diverts the agent's /var/ossec/lib/libsyscollector.so to
#    /var/ossec/lib/libsyscollector.so.wazuh-agent (dpkg-divert --rename), so dpkg then unpacks
#    ours at the agent's path and later agent upgrades write theirs beside it;
#  * postinst gives ours the agent's owner, group and mode (root:wazuh 0750);
#  * postrm (remove) takes the diversion away, which puts the agent's library back.
# It pre-depends on the wazuh-agent releases that speak the contract we implement
# (WAZUH_AGENT_RANGE below; see SPEC.md): 5.0.0 alpha0, our contract, and the beta1..beta4
# and rc1 hosts, which the same library serves (src/generation.rs). Pre-Depends, not
# Depends: nothing may be diverted unless such an agent (and its wazuh group) is there.
set -eu
dist=${1:?usage: build-deb.sh DIST_DIR OUT_DIR [VERSION]}
out=${2:?usage: build-deb.sh DIST_DIR OUT_DIR [VERSION]}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
version=${3:-$(sed -n 's/^version = "\(.*\)"/\1/p' "$src/Cargo.toml" | head -n 1)}
revision=1
# Debian orders 5.0.0~alpha0 < 5.0.0~beta1 < 5.0.0~beta4 < 5.0.0~rc1 < 5.0.0.
WAZUH_AGENT_RANGE=${WAZUH_AGENT_RANGE:-"wazuh-agent (>= 5.0.0~alpha0), wazuh-agent (<< 5.0.0~rc2)"}

lib="$dist/libsyscollector.so"
[ -f "$lib" ] || { echo "build-deb.sh: $lib not found (build the release artifact first)" >&2; exit 1; }
case "$(od -An -j18 -N2 -tu2 "$lib" | tr -d ' ')" in
62) arch=amd64 ;;
183) arch=arm64 ;;
*) echo "build-deb.sh: $lib is neither x86_64 nor aarch64" >&2; exit 1 ;;
esac

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg=syscollector-rs
doc="$stage/root/usr/share/doc/$pkg"
mkdir -p "$stage/root/DEBIAN" "$stage/root/var/ossec/lib" "$doc"
chmod 0755 "$stage/root" "$stage/root/DEBIAN"
install -m 0750 "$lib" "$stage/root/var/ossec/lib/libsyscollector.so"
{
    echo "syscollector-rs: a Rust implementation of the Wazuh agent's syscollector module."
    echo "License: GPL-2.0-only (the full text follows). Third-party components: THIRD-PARTY-LICENSES.md.gz."
    echo
    cat "$src/COPYING"
} > "$doc/copyright"
gzip -9n < "$src/THIRD-PARTY-LICENSES.md" > "$doc/THIRD-PARTY-LICENSES.md.gz"
gzip -9n < "$src/CHANGELOG.md" > "$doc/changelog.gz"
chmod 0644 "$doc"/*

size=$(du -k -s "$stage/root" | cut -f1)
cat > "$stage/root/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $version-$revision
Architecture: $arch
Maintainer: syscollector-rs maintainers <syscollector-rs@localhost>
Installed-Size: $size
Pre-Depends: $WAZUH_AGENT_RANGE
Section: admin
Priority: optional
Description: syscollector module of the Wazuh agent, in Rust
 Replaces the agent's C++ /var/ossec/lib/libsyscollector.so in place with a
 memory-safe implementation of the same C contract (exports, callbacks, local
 database, events, Agent Sync Protocol). The agent's own library is kept aside
 with dpkg-divert and comes back when this package is removed.
CONTROL
for s in preinst postinst postrm; do
    install -m 0755 "$here/$s" "$stage/root/DEBIAN/$s"
done
(cd "$stage/root" && find var usr -type f -exec md5sum {} + > DEBIAN/md5sums)
chmod 0644 "$stage/root/DEBIAN/control" "$stage/root/DEBIAN/md5sums"
mkdir -p "$out"
deb="$out/${pkg}_${version}-${revision}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage/root" "$deb" >/dev/null
echo "$deb"
