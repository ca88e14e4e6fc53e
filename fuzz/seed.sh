#!/bin/sh
# Seeds the corpus of every fuzz target from the test fixtures (tests/fixtures), the sync
# protocol's golden wire messages (src/sync_protocol/wire/golden) and the few inputs kept
# in fuzz/seeds/<target>/ (for the inputs no fixture has: norm_config, queries, host
# differences).
#
#   fuzz/seed.sh [CORPUS_DIR]      (default: fuzz/corpus, cargo-fuzz's own place)
#
# One directory per target below CORPUS_DIR; existing files are kept (libFuzzer adds its
# own finds there). Inputs made of several files join them with NUL bytes, as the target
# that reads them splits them (see its doc comment). The rpm header blobs come out of the
# fixture rpmdb.sqlite with python3's sqlite3 module when python3 is there.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
fx="$repo/tests/fixtures"
out=${1:-"$here/corpus"}

n=0
# Fixture paths have spaces ("Secure Preferences"): lists are split at newlines only.
nl='
'
IFS=$nl
# put TARGET FILE...: copies each regular file into TARGET's corpus, named by content.
put() {
    t=$1
    shift
    mkdir -p "$out/$t"
    for f in "$@"; do
        [ -f "$f" ] || continue
        sum=$(cksum <"$f" | tr ' ' '-')
        cp "$f" "$out/$t/seed-$sum"
        n=$((n + 1))
    done
}
# joined TARGET FILE...: one input of the files joined by NUL bytes.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
joined() {
    t=$1
    shift
    : >"$tmp/joined"
    first=1
    for f in "$@"; do
        [ "$first" = 1 ] || printf '\000' >>"$tmp/joined"
        first=0
        [ -f "$f" ] && cat "$f" >>"$tmp/joined"
    done
    put "$t" "$tmp/joined"
}
# found NAME-PATTERN...: the fixture files whose path matches one of the find -path patterns.
found() {
    expr=""
    for p in "$@"; do
        expr="$expr$nl-o$nl-path$nl$p"
    done
    set -f
    # shellcheck disable=SC2086
    find "$fx" -type f \( -false $expr \) | sort
    set +f
}

# Every target's seeds kept in the repository.
for d in "$here"/seeds/*/; do
    [ -d "$d" ] || continue
    put "$(basename "$d")" "$d"*
done

# Package databases.
put dpkg_status $(found '*/var/lib/dpkg/status')
put rpm_bdb $(found '*/var/lib/rpm/Packages')
put apk_installed $(found '*/lib/apk/db/installed')
put python_metadata $(found '*/METADATA' '*/PKG-INFO' '*.egg-info')
put npm_package $(found '*/package.json')
for desc in $(found '*/pacman/local/*/desc'); do
    printf '%s\n' "$(basename "$(dirname "$desc")")" >"$tmp/desc"
    cat "$desc" >>"$tmp/desc"
    put pacman_desc "$tmp/desc"
done
for body in $(found '*/pkg-snap/*.json'); do
    put snap "$body"
    { printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n'; cat "$body"; } >"$tmp/http"
    put snap "$tmp/http"
    size=$(wc -c <"$body" | tr -d ' ')
    { printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n' "$size"; cat "$body"; printf '\r\n0\r\n\r\n'; } >"$tmp/chunked"
    put snap "$tmp/chunked"
done
if command -v python3 >/dev/null 2>&1; then
    for db in $(found '*/rpmdb.sqlite'); do
        python3 - "$db" "$tmp/blobs" <<'EOF'
import os, sqlite3, sys
db, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
conn = sqlite3.connect("file:%s?mode=ro&immutable=1" % db, uri=True)
for hnum, blob in conn.execute("SELECT hnum, blob FROM Packages"):
    with open(os.path.join(out, "h%d" % hnum), "wb") as f:
        f.write(blob)
EOF
        put rpm_header "$tmp"/blobs/*
        rm -rf "$tmp/blobs"
    done
else
    echo "seed.sh: no python3, so no rpm header blobs from rpmdb.sqlite (rpm_header starts from fuzz/seeds only)" >&2
fi

# /etc and /proc files.
put os_release $(found '*/etc/*-release' '*/etc/*_version' '*/etc/*-version' '*/usr/lib/os-release' '*/etc/os-release')
put cpuinfo $(found '*/proc/cpuinfo')
put meminfo $(found '*/proc/meminfo')
put net_dev $(found '*/proc/net/dev')
put net_route $(found '*/proc/net/route')
for net in $(found '*/proc/net/fib_trie'); do
    d=$(dirname "$net")
    joined net_addresses "$d/fib_trie" "$d/if_inet6" "$d/route"
done
put proc_net_socket $(found '*/proc/net/tcp' '*/proc/net/tcp6' '*/proc/net/udp' '*/proc/net/udp6')
put proc_stat $(found '*/proc/[0-9]*/stat' '*/proc/[0-9]*/cmdline' '*/proc/stat')
put passwd $(found '*/etc/passwd')
put group $(found '*/etc/group')
put shadow $(found '*/etc/shadow')
put utmp $(found '*/run/utmp' '*/var/run/utmp')
put sudoers $(found '*/etc/sudoers' '*/etc/sudoers.d/*')
for unit in $(found '*/systemd/system/*.service'); do
    dropin=$(find "$unit.d" -name '*.conf' -type f 2>/dev/null | sort | head -n 1)
    joined unit_file "$unit" "${dropin:-/nonexistent}"
done
put dhcp_config $(found '*/etc/network/interfaces' '*/etc/network/interfaces.d/*' '*/ifcfg-*' '*.nmconnection' '*.network')

# Browser extensions: each Chromium profile's preferences with each of its extensions'
# manifest and English messages; each Firefox profiles.ini with each extensions.json.
for prefs in $(found '*/Default/Preferences' '*/Default/Secure Preferences'); do
    profile=$(dirname "$prefs")
    for manifest in $(find "$profile/Extensions" -name manifest.json -type f 2>/dev/null | sort); do
        joined chrome_extension "$prefs" "$manifest" "$(dirname "$manifest")/_locales/en/messages.json"
    done
done
for ini in $(found '*/firefox/profiles.ini'); do
    for ext in $(find "$(dirname "$ini")" -name extensions.json -type f | sort); do
        joined firefox_extension "$ini" "$ext"
    done
done

# The manager's replies (and the other messages, which a reply must not be mistaken for).
put parse_response "$repo"/src/sync_protocol/wire/golden/*.bin
put parse_response_vd "$repo"/src/sync_protocol/wire/golden/*.bin

echo "seed.sh: $n seed files below $out"
