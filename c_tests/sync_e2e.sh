#!/bin/sh
# End to end through the C ABI: the reference manager in one process, the C host (playing
# wazuh-modulesd, loading libsyscollector.so with dlopen) in another, a Unix socket between
# them. The agent's metadata comes from a provider loaded as in the real daemon: the host
# opens AGENT_INFO (c_tests/agent_info.c) with dlopen(RTLD_LAZY), which depends on
# libagent_sync_protocol.so (c_tests/metadata_provider.c); neither is in the global scope.
#
#  1. Metadata from the start: after a scan of this machine and a few sync rounds the manager
#     holds exactly the documents the library handed to the host (same index, same id), the
#     stateless events reached its events log, and every Start carried the provider's agent
#     id, name, version and groups.
#  2. The provider has no metadata, then metadata without groups, then all of it: nothing is
#     delivered (the reference's two warnings are logged) until the groups are there, and then
#     everything queued is delivered.
#  3. No provider loaded, only the shared-memory file the provider of run 1 wrote (in the
#     agent's home, the host's working directory): its metadata is on every Start.
# With HOST_GENERATION=beta4 in the environment the host runs in its beta4 mode (as the
# v5.0.0-beta4 wm_syscollector.c drives the module: see host.c), and after each run the host
# must have stopped within beta4's 10 s wait, its module thread finished; the host's beta4
# lines (exports found or not, startup action) are printed.
#   sync_e2e.sh MANAGER HOST LIBRARY [AGENT_INFO]   (AGENT_INFO defaults to $AGENT_INFO_LIB)
set -eu
manager=$1 host=$2 lib=$3 agent_info=${4:-${AGENT_INFO_LIB:-}}
[ -n "$agent_info" ] || { echo "usage: sync_e2e.sh MANAGER HOST LIBRARY AGENT_INFO"; exit 2; }
root=$(mktemp -d)
mpid='' hpid=''
trap 'for p in $hpid $mpid; do kill "$p" 2>/dev/null || true; done; rm -rf "$root"' EXIT

not_available='Metadata not available from provider. Agent-info may not be initialized yet. Cannot proceed with synchronization.'
no_groups='No groups available in metadata. Waiting for the server to synchronize the groups. Cannot proceed with synchronization.'

start_manager() { # DIR
    # MANAGER_GENERATION, when set, selects the manager's mode (`serve --generation`).
    "$manager" serve --socket "$1/m.sock" --db "$1/store.db" --events "$1/events.jsonl" \
        ${MANAGER_GENERATION:+--generation "$MANAGER_GENERATION"} 2>"$1/manager.log" &
    mpid=$!
    for _ in $(seq 50); do [ -S "$1/m.sock" ] && return 0; sleep 0.1; done
    echo "manager did not start"; cat "$1/manager.log"; exit 1
}
stop_manager() {
    kill "$mpid"
    wait "$mpid" || true
    mpid=''
}
write_metadata() { # FILE [GROUPS]
    {
        echo "agent_id=042"
        echo "agent_name=e2e-agent"
        echo "agent_version=v5.0.0"
        echo "architecture=x86_64"
        echo "hostname=e2e-host"
        echo "os_name=Debian GNU/Linux"
        echo "os_type=linux"
        echo "os_platform=debian"
        echo "os_version=12"
        [ -z "${2:-}" ] || echo "groups=$2"
    } > "$1.tmp"
    mv "$1.tmp" "$1"
}
wait_for() { # FIXED-STRING FILE SECONDS
    i=0
    while ! grep -qF -- "$1" "$2" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -le $(($3 * 10)) ] || { echo "waited $3 s for '$1' in $2"; cat "$2"; exit 1; }
        sleep 0.1
    done
}
# Every Start the manager received carries the provider's agent identity.
check_starts() { # DIR
    grep '^syscollector-manager: Start ' "$1/manager.log" > "$1/starts.txt" || true
    starts=$(wc -l < "$1/starts.txt")
    [ "$starts" -gt 0 ] || { echo "the manager received no Start"; cat "$1/manager.log"; exit 1; }
    for want in '"agent_id":"042"' '"agent_name":"e2e-agent"' '"agent_version":"v5.0.0"' \
        '"groups":["default","e2e"]' '"hostname":"e2e-host"' '"os_platform":"debian"'; do
        n=$(grep -cF -- "$want" "$1/starts.txt" || true)
        [ "$n" -eq "$starts" ] || { echo "$n of $starts Starts carry $want:"; head -3 "$1/starts.txt"; exit 1; }
    done
    echo "$starts Starts, all from agent 042 (e2e-agent, v5.0.0, groups default,e2e)"
}
# beta4 mode: the stop was beta4's (at most 10 s), the module thread finished.
check_host_generation() { # DIR
    [ "${HOST_GENERATION:-}" = beta4 ] || return 0
    grep -qxF 'host: Module finished.' "$1/host.out" || { echo "beta4 host: the module did not finish"; cat "$1/host.out"; exit 1; }
    ! grep -q 'Timeout waiting for Syscollector' "$1/host.out" || { echo "beta4 host: stop took more than 10 s"; exit 1; }
    ms=$(sed -n 's/^host: stopped in \([0-9]*\) ms$/\1/p' "$1/host.out")
    [ -n "$ms" ] && [ "$ms" -lt 10000 ] || { echo "beta4 host: no stop time under 10 s"; cat "$1/host.out"; exit 1; }
    grep -E '^host: (dlsym .* missing|Agentd query|.*(synchronization|scan) .*(delay|completed)\.)' "$1/host.out" | sort -u
    echo "beta4 host: stopped in $ms ms"
}
# The manager holds exactly the documents the library handed over.
check_delivered() { # DIR
    sort "$1/summary.txt" > "$1/agent.ids"
    "$manager" ids --db "$1/store.db" | sort > "$1/manager.ids"
    agent=$(wc -l < "$1/agent.ids")
    [ "$agent" -gt 3 ] || { echo "agent handed over only $agent documents"; exit 1; }
    if ! diff "$1/agent.ids" "$1/manager.ids" > "$1/diff.txt"; then
        echo "manager store differs from the agent's documents:"; head -20 "$1/diff.txt"; exit 1
    fi
}

# ---- 1. metadata from the start ----
dir=$root/one
mkdir -p "$dir/var/run"
write_metadata "$dir/agent-metadata" default,e2e
start_manager "$dir"
(cd "$dir" && "$host" --lib "$lib" --db "$dir" --socket "$dir/m.sock" --sync-interval 2 --run-secs 12 \
    --collectors os,hardware,processes --summary "$dir/summary.txt" \
    --agent-info "$agent_info" --agent-metadata "$dir/agent-metadata" > "$dir/host.out" 2> "$dir/host.err")
stop_manager
grep -q "sync ok" "$dir/host.out" || { echo "no successful sync"; cat "$dir/host.out" "$dir/host.err"; exit 1; }
check_delivered "$dir"
for index in system hardware processes; do
    grep -c "wazuh-states-inventory-$index " "$dir/manager.ids" | sed "s/^/$index: /"
done
events=$(wc -l < "$dir/events.jsonl")
[ "$events" -ge "$agent" ] || { echo "only $events stateless events for $agent documents"; exit 1; }
grep -q '"module":"inventory"' "$dir/events.jsonl" || { echo "events are not inventory events"; exit 1; }
check_starts "$dir"
check_host_generation "$dir"
[ -s "$dir/var/run/.wazuh_agent_metadata" ] || { echo "the provider wrote no shared-memory file"; exit 1; }

# ---- 2. no metadata, then no groups, then everything ----
dir=$root/two
mkdir -p "$dir/var/run"
start_manager "$dir"
(cd "$dir" && exec "$host" --lib "$lib" --db "$dir" --socket "$dir/m.sock" --sync-interval 2 --run-secs 90 \
    --collectors os,hardware,processes --summary "$dir/summary.txt" \
    --agent-info "$agent_info" --agent-metadata "$dir/agent-metadata" > "$dir/host.out" 2> "$dir/host.err") &
hpid=$!
wait_for "scan finished" "$dir/host.out" 60
wait_for "$not_available" "$dir/host.err" 20
wait_for "sync failed" "$dir/host.out" 10
! grep -q 'Start ' "$dir/manager.log" || { echo "a session was opened without metadata"; cat "$dir/manager.log"; exit 1; }
echo "no metadata: refused ($(grep -cF -- "$not_available" "$dir/host.err") warnings), nothing sent"
write_metadata "$dir/agent-metadata"
wait_for "$no_groups" "$dir/host.err" 20
! grep -q 'Start ' "$dir/manager.log" || { echo "a session was opened without groups"; cat "$dir/manager.log"; exit 1; }
echo "no groups: refused ($(grep -cF -- "$no_groups" "$dir/host.err") warnings), nothing sent"
write_metadata "$dir/agent-metadata" default,e2e
wait_for "syscollector-manager: Start " "$dir/manager.log" 20
# The first sync after the Start delivers the whole queue; one more round to be sure it ended.
n=$(grep -c "sync ok" "$dir/host.out" || true)
i=0
while [ "$(grep -c "sync ok" "$dir/host.out" || true)" -lt $((n + 1)) ]; do
    i=$((i + 1)); [ "$i" -le 200 ] || { echo "no successful sync once metadata was there"; cat "$dir/host.out"; exit 1; }
    sleep 0.1
done
kill -TERM "$hpid"
wait "$hpid"
hpid=''
stop_manager
check_delivered "$dir"
check_starts "$dir"
check_host_generation "$dir"
echo "then: everything queued delivered ($agent documents)"

# ---- 3. only the shared-memory file the provider of run 1 left in the agent's home ----
dir=$root/three
mkdir -p "$dir"
start_manager "$dir"
(cd "$root/one" && "$host" --lib "$lib" --db "$dir" --socket "$dir/m.sock" --sync-interval 2 --run-secs 8 \
    --collectors os,hardware --summary "$dir/summary.txt" > "$dir/host.out" 2> "$dir/host.err")
stop_manager
grep -q "sync ok" "$dir/host.out" || { echo "no successful sync from the shared-memory file"; cat "$dir/host.out" "$dir/host.err"; exit 1; }
check_starts "$dir"
check_host_generation "$dir"
echo "1 passed, 0 failed"
