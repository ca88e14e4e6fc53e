#!/usr/bin/env bash
# Run the real beta4 wazuh-modulesd (built by build.sh) with our libsyscollector.so.
#   run.sh LIBRARY [SECONDS]
# Environment: BETA4_ROOT (/work/beta4), OUT (results dir, default $BETA4_ROOT/run-<time>),
#   LIMITS (agentd's getdoclimits answer, default {}), MANAGER (syscollector-manager binary:
#   when set, the agent queue is bridged to `syscollector-manager serve` and its replies go
#   back through queue/sockets/wmodules; MANAGER_GENERATION=beta4 runs it in its beta4 mode),
#   SCAN_INTERVAL (s, 20), SYNC_INTERVAL (s, 10),
#   INTEGRITY_INTERVAL (s, 30), METADATA (beta4 | alpha0: who writes the agent metadata
#   shared-memory file, see below).
# Sets up a WAZUH_HOME-like dir, starts the agentd stand-in, runs `wazuh-modulesd -f -d -d`,
# SIGTERMs it after SECONDS and checks it exits within 10 s; prints a summary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=$(realpath "$1")
secs=${2:-60}
ROOT=${BETA4_ROOT:-/work/beta4}
OUT=${OUT:-$ROOT/run-$(date +%H%M%S)}
LIMITS=${LIMITS:-'{}'}
MIRROR=${MIRROR:-/work/.mirror/wazuh+wazuh/repo}
daemon=$ROOT/build/bin/wazuh-modulesd
[ -x "$daemon" ] || { echo "build it first: $here/build.sh"; exit 2; }

home=$OUT/home
rm -rf "$OUT"
mkdir -p "$home"/{bin,lib,etc,logs,var/run,queue/sockets,queue/syscollector/db,tmp}
cp "$daemon" "$home/bin/wazuh-modulesd"
cp "$lib" "$home/lib/libsyscollector.so"
git -C "$MIRROR" show v5.0.0-beta4:etc/internal_options.conf >"$home/etc/internal_options.conf"
printf 'wazuh_modules.debug=2\n' >"$home/etc/local_internal_options.conf"
cat >"$home/etc/ossec.conf" <<CONF
<ossec_config>
  <wodle name="syscollector">
    <disabled>no</disabled>
    <interval>${SCAN_INTERVAL:-20}s</interval>
    <scan_on_start>yes</scan_on_start>
    <hardware>yes</hardware>
    <os>yes</os>
    <network>yes</network>
    <packages>yes</packages>
    <ports all="no">yes</ports>
    <processes>yes</processes>
    <users>yes</users>
    <groups>yes</groups>
    <services>yes</services>
    <browser_extensions>yes</browser_extensions>
    <synchronization>
      <enabled>yes</enabled>
      <interval>${SYNC_INTERVAL:-10}s</interval>
      <max_eps>0</max_eps>
      <response_timeout>5</response_timeout>
      <sync_end_delay>1</sync_end_delay>
      <integrity_interval>${INTEGRITY_INTERVAL:-30}s</integrity_interval>
    </synchronization>
  </wodle>
</ossec_config>
CONF
getent group wazuh >/dev/null || groupadd -r wazuh

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

manager_args=()
if [ -n "${MANAGER:-}" ]; then
    "$MANAGER" serve --socket "$OUT/m.sock" --db "$OUT/store.db" --events "$OUT/events.jsonl" \
        ${MANAGER_GENERATION:+--generation "$MANAGER_GENERATION"} 2>"$OUT/manager.log" &
    pids+=($!)
    for _ in $(seq 50); do [ -S "$OUT/m.sock" ] && break; sleep 0.1; done
    manager_args=(--manager "$OUT/m.sock")
fi
# The agent metadata: libagent_info.so (C++) is not built. METADATA=beta4 (default): the real
# beta4 libagent_metadata.so (build.sh) writes var/run/.wazuh_agent_metadata in beta4's
# layout, as on a beta4 agent; METADATA=alpha0: the repository's stand-in
# (c_tests/metadata_provider.c, alpha0's layout).
if [ "${METADATA:-beta4}" = alpha0 ]; then
    gcc -shared -fPIC -O1 -pthread -o "$ROOT/build/libmetadata_standin.so" "$here/../../c_tests/metadata_provider.c"
    metadata_args=(--metadata-lib "$ROOT/build/libmetadata_standin.so" --metadata-layout alpha0)
else
    cp "$ROOT/build/libagent_metadata.so" "$home/lib/"
    metadata_args=(--metadata-lib "$home/lib/libagent_metadata.so" --metadata-layout beta4)
fi
python3 "$here/agentd.py" --home "$home" --out "$OUT" --limits "$LIMITS" "${metadata_args[@]}" \
    "${manager_args[@]}" &
agentd=$!
pids+=($agentd)
for _ in $(seq 50); do [ -S "$home/queue/sockets/queue" ] && break; sleep 0.1; done

( cd "$home" && DLSYM_LOG="$OUT/dlsym.log" LD_PRELOAD="$ROOT/build/dlsym_log.so" \
    exec ./bin/wazuh-modulesd -f -d -d ) >"$OUT/daemon.out" 2>&1 &
daemon_pid=$!
pids+=($daemon_pid)
sleep "$secs"
t0=$(date +%s.%N)
kill -TERM "$daemon_pid"
stopped=no
for _ in $(seq 100); do
    if ! kill -0 "$daemon_pid" 2>/dev/null; then stopped=yes; break; fi
    sleep 0.1
done
t1=$(date +%s.%N)
wait "$daemon_pid" 2>/dev/null && rc=0 || rc=$?
stop_secs=$(python3 -c "print(round($t1-$t0,1))")
kill -TERM "$agentd"; wait "$agentd" || true
cleanup
{
    echo "daemon exit within 10 s: $stopped (${stop_secs} s, rc $rc)"
    echo "--- dlsym"; sort "$OUT/dlsym.log" 2>/dev/null | uniq -c
    echo "--- agentd requests"; grep -o "agentd: '[a-z]* *[a-z]*'" "$OUT/agentd.log" | sort | uniq -c
    echo "--- MQ messages"; python3 -c "import json;[print(f'{v:6d} {k}') for k,v in sorted(json.load(open('$OUT/summary.json'))['counts'].items())]"
    if [ -n "${MANAGER:-}" ]; then
        echo "--- manager: sessions (Start mode, module)"
        sed -n 's/^syscollector-manager: Start .*"mode":"\([A-Za-z]*\)","module":"\([a-z_]*\)".*/\1 \2/p' \
            "$OUT/manager.log" | sort | uniq -c
        echo "--- manager: Starts carrying agent 042's identity: $(grep -c '"agent_id":"042"' "$OUT/manager.log" || true)"
        echo "--- manager: documents per index"; "$MANAGER" indices --db "$OUT/store.db"
    fi
    echo "--- daemon log: wm_syscollector.c lines (host side), counted"
    grep -o 'wm_syscollector.c:[0-9]* at [a-z_]*(): [A-Z]*: .*' "$OUT/daemon.out" | grep -v 'Persisting Inventory event' |
        sed 's/^wm_syscollector.c:[0-9]* at //' | sort | uniq -c | sort -rn | head -40
    echo "--- daemon log: library lines by level"
    grep -o 'taggedLogFunction(): [A-Z]*' "$OUT/daemon.out" | sort | uniq -c
    echo "--- library INFO lines, counted"
    grep -o 'taggedLogFunction(): INFO: .*' "$OUT/daemon.out" | sed 's/taggedLogFunction(): INFO: //; s/[0-9]\+/N/g' |
        sort | uniq -c | sort -rn | head -20
    echo "--- library warnings/errors (first 20)"
    grep -E 'taggedLogFunction\(\): (WARNING|ERROR|CRITICAL)' "$OUT/daemon.out" | sed 's/.*taggedLogFunction(): //' | sort | uniq -c | head -20 || true
} | tee "$OUT/report.txt"
