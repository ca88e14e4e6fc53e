#!/usr/bin/env bash
# Build the real Wazuh v5.0.0-beta4 agent wazuh-modulesd (its C parts only)
# from the reference source, with Debian's libraries standing in for src/external.
# Manual check, not run in CI. See README.md in this directory.
set -euo pipefail

MIRROR=${MIRROR:-/work/.mirror/wazuh+wazuh/repo}
TAG=${TAG:-v5.0.0-beta4}
ROOT=${BETA4_ROOT:-/work/beta4}
JOBS=${JOBS:-2}
SRC=$ROOT/src
OUT=$ROOT/build
SHIM=$ROOT/shim

# 1. Export the source tree (file by file where `git archive` trips on blobs the
#    mirror does not hold; those are test data only).
if [ ! -f "$SRC/wazuh_modules/src/main.c" ]; then
    mkdir -p "$ROOT"
    git -C "$MIRROR" ls-tree -r "$TAG" src | while read -r _mode _type obj path; do
        mkdir -p "$ROOT/$(dirname "$path")"
        git -C "$MIRROR" cat-file blob "$obj" >"$ROOT/$path" 2>/dev/null ||
            { echo "missing in mirror (skipped): $path"; rm -f "$ROOT/$path"; }
    done
fi

# 2. Debian development packages standing in for src/external.
need=()
for p in libcjson-dev libssl-dev libcurl4-openssl-dev zlib1g-dev libsqlite3-dev \
         libyaml-dev libpcre2-dev libbz2-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then apt-get install -y "${need[@]}"; fi

# 3. Include shims: the sources include "cJSON.h" etc. by bare name.
mkdir -p "$SHIM"
ln -sf /usr/include/cjson/cJSON.h "$SHIM/cJSON.h"

CFLAGS=(-I/usr/include/x86_64-linux-gnu/curl -O1 -g -fPIC -std=gnu99 -pthread -w
        -DCLIENT -DARGV0=\"wazuh-modulesd\" -DGROUPGLOBAL=\"wazuh\"
        -DVERSION=\"v5.0.0\" -DREVISION=\"beta4\" -DINOTIFY_ENABLED
        -I"$SHIM")
for d in shared/include shared/include/error_messages shared/os_regex shared/os_net shared/os_xml \
         shared/os_zlib shared/os_crypto/md5 shared/os_crypto/sha1 shared/os_crypto/sha256 \
         shared/os_crypto/sha512 shared/os_crypto/md5_sha1_sha256 shared/os_crypto/blowfish \
         shared/os_crypto/aes shared/os_crypto/hmac shared/os_crypto/shared shared/os_crypto/signature \
         config/include client-agent/include active-response/include logcollector/include \
         os_auth/include syscheckd/include data_provider/include wazuh_db/include \
         shared_modules shared_modules/agent_metadata/include shared_modules/common \
         shared_modules/dbsync/include shared_modules/router/include \
         shared_modules/sync_protocol/include shared_modules/content_manager/include \
         wazuh_modules/include wazuh_modules/src wazuh_modules/agent_info/include \
         wazuh_modules/sca/include wazuh_modules/syscollector/include \
         wazuh_modules/src/agent_upgrade wazuh_modules/src/agent_upgrade/agent \
         wazuh_modules/src/agent_upgrade/manager wazuh_modules/src/task_manager \
         wazuh_modules/vulnerability_scanner/include wazuh_modules/inventory_sync/include; do
    CFLAGS+=(-I"$SRC/$d")
done

# 4. The C sources of the daemon and of the static libraries it links
#    (libwazuh = shared/, libconfig = config/, the modules = wazuh_modules/src).
mkdir -p "$OUT/obj"
sources() {
    ls "$SRC"/shared/src/*.c
    for d in blowfish md5 sha1 sha256 sha512 aes md5_sha1_sha256 hmac shared signature; do
        ls "$SRC"/shared/os_crypto/$d/*.c
    done
    ls "$SRC"/shared/os_net/*.c "$SRC"/shared/os_regex/*.c "$SRC"/shared/os_xml/*.c "$SRC"/shared/os_zlib/*.c
    echo "$SRC/active-response/src/active_responses.c"
    ls "$SRC"/config/src/*.c | grep -v -e indexer-config.c -e wmodules-task-manager.c \
        -e wmodules-vulnerability-detection.c
    ls "$SRC"/wazuh_modules/src/*.c "$SRC"/wazuh_modules/src/agent_upgrade/*.c \
        "$SRC"/wazuh_modules/src/agent_upgrade/agent/*.c
}
export OUT SRC
printf '%q ' "${CFLAGS[@]}" >"$OUT/cflags"
sources | nice -n 15 xargs -P "$JOBS" -I{} sh -c '
    o="$OUT/obj/$(echo "{}" | sed "s|^$SRC/||; s|/|_|g; s|\.c$|.o|")"
    [ "$o" -nt "{}" ] || eval gcc $(cat "$OUT/cflags") -c "{}" -o "$o" || { echo "FAILED {}"; exit 1; }'

# 5. Link the way CMake does: everything but main.c goes into static archives,
#    so objects nothing references (server-only modules) are not pulled in.
mkdir -p "$OUT/bin"
rm -f "$OUT/libwazuh_all.a"
ar rcs "$OUT/libwazuh_all.a" $(ls "$OUT"/obj/*.o | grep -v '/wazuh_modules_src_main.o$')
nice -n 15 gcc -o "$OUT/bin/wazuh-modulesd" "$OUT/obj/wazuh_modules_src_main.o" \
    -Wl,--start-group "$OUT/libwazuh_all.a" -Wl,--end-group -pthread -Wl,-rpath,'$ORIGIN/../lib' \
    -lcjson -lssl -lcrypto -lcurl -lz -lsqlite3 -lyaml -lpcre2-8 -lbz2 -ldl -lrt -lm
echo "built $OUT/bin/wazuh-modulesd"

# 6. The dlsym logger run.sh preloads (logs each dlsym("syscollector_*") and its outcome).
gcc -shared -fPIC -O1 -o "$OUT/dlsym_log.so" "$(dirname "$0")/dlsym_log.c" -ldl
echo "built $OUT/dlsym_log.so"

# 7. The real beta4 agent metadata provider (libagent_metadata.so, one C++ file with no
#    dependency): run.sh uses it to write the shared-memory file in beta4's layout.
nice -n 15 g++ -std=c++17 -O1 -fPIC -shared -o "$OUT/libagent_metadata.so" \
    -I"$SRC/shared_modules/agent_metadata/include" "$SRC/shared_modules/agent_metadata/src/metadata_provider.cpp" -pthread
echo "built $OUT/libagent_metadata.so"
