#!/bin/sh
# Document limits through a beta4 host, end to end: the reference manager in one process, the
# C host in beta4 mode (host --beta4, wm_syscollector.c of v5.0.0-beta4) in another, the agent
# metadata from the stand-in agent-info library as in sync_e2e.sh.
#
#  1. limit 1 on packages, and agentd not answering at first: the host's agentd stand-in reads
#     its answer from a file that does not exist yet, so `getdoclimits syscollector` fails and
#     the library must ask again; once the file says {"packages":1}, the manager ends up with
#     exactly one package document, while the other tables (os) are synced in full.
#  2. limit 0 (unlimited) on packages: the manager holds every package the library handed over.
# In both: the host found the beta exports, took the startup action from the library's markers
# (first sync right after the first scan), and stopped within beta4's 10 s with the resources
# released after the sync thread was joined.
#   beta4_limits.sh MANAGER HOST LIBRARY [AGENT_INFO]   (AGENT_INFO defaults to $AGENT_INFO_LIB)
# MANAGER_GENERATION, when set, is passed to `serve --generation` (the manager's beta4 mode).
set -eu
manager=$1 host=$2 lib=$3 agent_info=${4:-${AGENT_INFO_LIB:-}}
[ -n "$agent_info" ] || { echo "usage: beta4_limits.sh MANAGER HOST LIBRARY AGENT_INFO"; exit 2; }
root=$(mktemp -d)
mpid='' hpid=''
trap 'for p in $hpid $mpid; do kill "$p" 2>/dev/null || true; done; rm -rf "$root"' EXIT
packages='wazuh-states-inventory-packages'

start_manager() { # DIR
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
wait_for() { # FIXED-STRING FILE SECONDS
    i=0
    while ! grep -qF -- "$1" "$2" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -le $(($3 * 10)) ] || { echo "waited $3 s for '$1' in $2"; cat "$2"; exit 1; }
        sleep 0.1
    done
}
count() { # FIXED-STRING FILE
    grep -cF -- "$1" "$2" || true
}
metadata() { # FILE
    printf '%s\n' agent_id=042 agent_name=e2e-agent agent_version=v5.0.0 architecture=x86_64 \
        hostname=e2e-host 'os_name=Debian GNU/Linux' os_type=linux os_platform=debian os_version=12 \
        cluster_name=wazuh cluster_node=node01 groups=default,e2e > "$1"
}
run_host() { # DIR LIMITS-FILE
    (cd "$1" && exec "$host" --beta4 --lib "$lib" --db "$1" --socket "$1/m.sock" --sync-interval 2 \
        --collectors os,packages --summary "$1/summary.txt" --doc-limits-file "$2" \
        --agent-info "$agent_info" --agent-metadata "$1/agent-metadata" > "$1/host.out" 2> "$1/host.err") &
    hpid=$!
}
# What a beta4 host must see from the library, whatever the limits.
check_beta_host() { # DIR
    for want in 'host: dlsym syscollector_release_resources found' 'host: dlsym syscollector_is_scanning found' \
        'host: dlsym syscollector_set_agentd_query_func found' \
        'host: Agentd query function configured for document limits.' \
        'host: Inventory initial scan data is not ready yet. First synchronization will wait for scan data.' \
        'host: First inventory scan completed. Triggering first synchronization without startup delay.' \
        'host: Module finished.' 'host: Resources released.'; do
        grep -qxF -- "$want" "$1/host.out" || { echo "missing: $want"; cat "$1/host.out" "$1/host.err"; exit 1; }
    done
    ! grep -q 'Timeout waiting for Syscollector' "$1/host.out" || { echo "stop took longer than 10 s"; exit 1; }
    ms=$(sed -n 's/^host: stopped in \([0-9]*\) ms$/\1/p' "$1/host.out")
    [ -n "$ms" ] && [ "$ms" -lt 10000 ] || { echo "no stop time under 10 s"; cat "$1/host.out"; exit 1; }
    # The module finished (sync thread joined) before the resources were released.
    finished=$(grep -nxF 'host: Module finished.' "$1/host.out" | cut -d: -f1)
    released=$(grep -nxF 'host: Resources released.' "$1/host.out" | cut -d: -f1)
    [ "$finished" -lt "$released" ] || { echo "resources released before the module finished"; exit 1; }
    echo "beta4 host: exports found, first sync after the first scan, stopped in $ms ms, released after the join"
}
stop_host_after_sync() { # DIR
    wait_for "sync ok" "$1/host.out" 60
    n=$(count "sync ok" "$1/host.out")
    i=0
    while [ "$(count "sync ok" "$1/host.out")" -lt $((n + 1)) ]; do
        i=$((i + 1)); [ "$i" -le 300 ] || { echo "no second successful sync"; cat "$1/host.out"; exit 1; }
        sleep 0.1
    done
    kill -TERM "$hpid"
    wait "$hpid"
    hpid=''
}

# ---- 1. limit 1, agentd answering late ----
dir=$root/one
mkdir -p "$dir/var/run"
metadata "$dir/agent-metadata"
start_manager "$dir"
run_host "$dir" "$dir/limits.json"
wait_for 'host: agentd request: getdoclimits syscollector' "$dir/host.out" 20
# The library asks again while agentd does not answer.
i=0
while [ "$(count 'host: agentd request: getdoclimits syscollector' "$dir/host.out")" -lt 2 ]; do
    i=$((i + 1)); [ "$i" -le 50 ] || { echo "getdoclimits was not retried"; cat "$dir/host.out"; exit 1; }
    sleep 0.1
done
! grep -q "sync ok" "$dir/host.out" || { echo "synced before the document limits were known"; exit 1; }
echo '{"packages":1}' > "$dir/limits.json.tmp" && mv "$dir/limits.json.tmp" "$dir/limits.json"
stop_host_after_sync "$dir"
stop_manager
check_beta_host "$dir"
asked=$(count 'host: agentd request: getdoclimits syscollector' "$dir/host.out")
"$manager" ids --db "$dir/store.db" > "$dir/manager.ids"
synced=$(count "$packages " "$dir/manager.ids")
handed=$(count "$packages " "$dir/summary.txt")
[ "$synced" -eq 1 ] || { echo "limit 1: the manager holds $synced package documents"; exit 1; }
grep -q '^wazuh-states-inventory-system ' "$dir/manager.ids" || { echo "limit 1: os not synced"; exit 1; }
echo "limit 1: getdoclimits asked $asked times; manager holds 1 package document (library handed $handed to the host)"

# ---- 2. limit 0: unlimited ----
dir=$root/two
mkdir -p "$dir/var/run"
metadata "$dir/agent-metadata"
echo '{"packages":0}' > "$dir/limits.json"
start_manager "$dir"
run_host "$dir" "$dir/limits.json"
stop_host_after_sync "$dir"
stop_manager
check_beta_host "$dir"
"$manager" ids --db "$dir/store.db" > "$dir/manager.ids"
synced=$(count "$packages " "$dir/manager.ids")
handed=$(count "$packages " "$dir/summary.txt")
[ "$handed" -gt 1 ] || { echo "limit 0: the library handed over only $handed packages"; exit 1; }
[ "$synced" -eq "$handed" ] || { echo "limit 0: manager holds $synced of $handed packages"; exit 1; }
echo "limit 0: manager holds all $synced package documents"
echo "1 passed, 0 failed"
