#!/bin/sh
# The Debian package, installed for real with dpkg over a stand-in wazuh-agent package:
#   deb_replace.sh SRC DIST_DIR VERSION_PROBE WORK_DIR VERSION
# 1. A stand-in `wazuh-agent` (creates group wazuh, installs a dummy libsyscollector.so at
#    /var/ossec/lib, root:wazuh 0750) at 4.14.0: ours must be refused (Pre-Depends), nothing
#    diverted. 2. The stand-in at 5.0.0~beta4: ours installs; the agent's library is diverted,
#    ours is at its path with root:wazuh 0750, is byte for byte the release artifact, and is
#    the one a dlopen() loads (it logs our version). 3. Installing ours again keeps one
#    diversion. 4. A wazuh-agent upgrade writes its new library beside ours, not over it.
#    5. Removing ours puts the agent's (upgraded) library back, with its owner and mode.
# It changes the system's dpkg database, so it needs root (CI runs as root on a throw-away
# machine) and refuses to run where a real wazuh-agent is installed. Concurrent runs on one
# machine wait for each other (flock).
set -eu
src=$1 dist=$2 probe=$3 work=$4 version=$5
lib=/var/ossec/lib/libsyscollector.so
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "this test installs packages with dpkg and must run as root (CI does; or run ctest as root in a container)"
for t in dpkg dpkg-deb dpkg-divert cc flock groupadd; do
    command -v "$t" >/dev/null || fail "'$t' is missing (Debian: apt-get install dpkg gcc util-linux passwd)"
done

exec 9> /tmp/syscollector-deb-test.lock
flock -w 600 9 || fail "another package test holds /tmp/syscollector-deb-test.lock"

status() { dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null || true; }
if [ -n "$(dpkg-query -W -f '${Version}' wazuh-agent 2>/dev/null)" ] &&
   ! dpkg-query -W -f '${Description}' wazuh-agent | grep -q 'stand-in for the package test'; then
    fail "a real wazuh-agent package is installed here; run this test on a throw-away machine"
fi
group_existed=0
getent group wazuh >/dev/null && group_existed=1

cleanup() {
    dpkg --purge syscollector-rs >/dev/null 2>&1 || true
    dpkg --purge wazuh-agent >/dev/null 2>&1 || true
    [ "$group_existed" -eq 1 ] || groupdel wazuh 2>/dev/null || true
}
cleanup
trap cleanup EXIT

rm -rf "$work"
mkdir -p "$work"

# A stand-in wazuh-agent .deb: VERSION, dummy library logging MARKER.
standin() {
    v=$1 marker=$2 root="$work/standin-$1"
    mkdir -p "$root/DEBIAN" "$root/var/ossec/lib"
    cc -shared -fPIC -Wall -Werror -DSTANDIN_MARKER="\"$marker\"" -Wl,-soname,libsyscollector.so \
        -o "$root/var/ossec/lib/libsyscollector.so" "$src/packaging/tests/standin_module.c"
    cat > "$root/DEBIAN/control" <<CONTROL
Package: wazuh-agent
Version: $v
Architecture: $(dpkg --print-architecture)
Maintainer: syscollector-rs tests <tests@localhost>
Description: stand-in for the package test
 Installs a dummy /var/ossec/lib/libsyscollector.so and creates group wazuh.
CONTROL
    cat > "$root/DEBIAN/preinst" <<'SCRIPT'
#!/bin/sh
set -e
getent group wazuh >/dev/null || groupadd -r wazuh
SCRIPT
    cat > "$root/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
chown root:wazuh /var/ossec /var/ossec/lib
chmod 0750 /var/ossec /var/ossec/lib
# The agent's own library, wherever dpkg put it (its path, or the diverted name).
f=$(dpkg-divert --truename /var/ossec/lib/libsyscollector.so)
chown root:wazuh "$f"
chmod 0750 "$f"
SCRIPT
    chmod 0755 "$root/DEBIAN/preinst" "$root/DEBIAN/postinst"
    dpkg-deb --root-owner-group --build "$root" "$work/wazuh-agent_$v.deb" >/dev/null
    echo "$work/wazuh-agent_$v.deb"
}

old=$(standin 4.14.0-1 "stand-in 4.14.0")
beta=$(standin 5.0.0~beta4-1 "stand-in 5.0.0~beta4-1")
rc1=$(standin 5.0.0~rc1-1 "stand-in 5.0.0~rc1-1")
later=$(standin 5.0.0-1 "stand-in 5.0.0-1")
agent=$(standin 5.0.0~alpha0-1 "stand-in 5.0.0~alpha0-1")
agent2=$(standin 5.0.0~alpha0-2 "stand-in 5.0.0~alpha0-2")
ours=$(sh "$src/packaging/deb/build-deb.sh" "$dist" "$work" "$version")
echo "built $ours"
dpkg-deb -f "$ours" Pre-Depends | grep -qF 'wazuh-agent (>= 5.0.0~alpha0), wazuh-agent (<< 5.0.0~rc2)' \
    || fail "Pre-Depends is '$(dpkg-deb -f "$ours" Pre-Depends)'"
dpkg-deb -c "$ours" | grep -q '^-rwxr-x--- root/root .* ./var/ossec/lib/libsyscollector.so$' \
    || fail "package does not hold ./var/ossec/lib/libsyscollector.so 0750: $(dpkg-deb -c "$ours")"

echo "== 1. an agent outside the range: refused, nothing diverted"
dpkg -i "$old" >/dev/null
if dpkg -i "$ours" > "$work/refused.log" 2>&1; then fail "installed over wazuh-agent 4.14.0"; fi
grep -q "pre-dependency problem\|Pre-Depends\|pre-depends" "$work/refused.log" || { cat "$work/refused.log"; fail "refused for another reason"; }
[ "$(status syscollector-rs)" != "installed" ] || fail "syscollector-rs is installed"
[ -z "$(dpkg-divert --listpackage $lib)" ] || fail "diverted although refused"
[ "$("$probe" $lib)" = "stand-in 4.14.0" ] || fail "the agent's library was touched"

echo "== 1b. an agent after the last one we serve (5.0.0 final, after rc1): refused, nothing diverted"
dpkg -i "$later" >/dev/null
if dpkg -i "$ours" > "$work/refused-later.log" 2>&1; then fail "installed over wazuh-agent 5.0.0"; fi
[ "$(status syscollector-rs)" != "installed" ] || fail "syscollector-rs is installed over 5.0.0"
[ -z "$(dpkg-divert --listpackage $lib)" ] || fail "diverted over 5.0.0 although refused"
[ "$("$probe" $lib)" = "stand-in 5.0.0-1" ] || fail "the 5.0.0 agent's library was touched"

echo "== 2. an agent in the range: ours replaces its module"
dpkg -i "$agent" >/dev/null
dpkg -i "$ours" >/dev/null
[ "$(status syscollector-rs)" = "installed" ] || fail "syscollector-rs not installed: $(status syscollector-rs)"
[ "$(dpkg-divert --listpackage $lib)" = "syscollector-rs" ] || fail "no diversion by syscollector-rs: $(dpkg-divert --list)"
[ "$(dpkg-divert --truename $lib)" = "$lib.wazuh-agent" ] || fail "diverted to $(dpkg-divert --truename $lib)"
[ "$(stat -c '%a %U %G' $lib)" = "750 root wazuh" ] || fail "$lib is $(stat -c '%a %U %G' $lib)"
cmp -s "$lib" "$dist/libsyscollector.so" || fail "$lib is not the release artifact"
line=$("$probe" $lib)
case "$line" in "libsyscollector $version "*) ;; *) fail "dlopen($lib) logged '$line'" ;; esac
echo "loaded: $line"
[ "$("$probe" $lib.wazuh-agent)" = "stand-in 5.0.0~alpha0-1" ] || fail "the agent's library is not kept aside"
[ "$(stat -c '%a %U %G' $lib.wazuh-agent)" = "750 root wazuh" ] || fail "kept-aside library is $(stat -c '%a %U %G' $lib.wazuh-agent)"

echo "== 3. ours again: one diversion, ours in place"
dpkg -i "$ours" >/dev/null
[ "$(dpkg-divert --list | grep -c "$lib")" -eq 1 ] || fail "diversions: $(dpkg-divert --list)"
cmp -s "$lib" "$dist/libsyscollector.so" || fail "reinstall lost our library"

echo "== 4. an agent upgrade writes its library beside ours"
dpkg -i "$agent2" >/dev/null
cmp -s "$lib" "$dist/libsyscollector.so" || fail "the agent upgrade overwrote our library"
[ "$("$probe" $lib.wazuh-agent)" = "stand-in 5.0.0~alpha0-2" ] || fail "the upgraded agent library is not at the diverted name"

echo "== 4b. the agent upgraded in place to the beta generation (beta4, then rc1): ours stays"
for up in "$beta:5.0.0~beta4-1" "$rc1:5.0.0~rc1-1"; do
    deb=${up%%:*}; v=${up#*:}
    dpkg -i "$deb" >/dev/null || fail "upgrade to wazuh-agent $v refused"
    [ "$(status syscollector-rs)" = "installed" ] || fail "syscollector-rs not installed after the $v upgrade"
    cmp -s "$lib" "$dist/libsyscollector.so" || fail "the $v upgrade overwrote our library"
    [ "$("$probe" $lib.wazuh-agent)" = "stand-in $v" ] || fail "the $v agent library is not at the diverted name"
done

echo "== 5. removing ours puts the agent's library back"
dpkg -r syscollector-rs >/dev/null
[ -z "$(dpkg-divert --listpackage $lib)" ] || fail "diversion left: $(dpkg-divert --list)"
[ ! -e "$lib.wazuh-agent" ] || fail "$lib.wazuh-agent left behind"
[ "$("$probe" $lib)" = "stand-in 5.0.0~rc1-1" ] || fail "the agent's library is not back"
[ "$(stat -c '%a %U %G' $lib)" = "750 root wazuh" ] || fail "restored library is $(stat -c '%a %U %G' $lib)"
echo "deb package: 6 passed, 0 failed"
