#!/bin/sh
# End to end through the C ABI: the reference manager in one process, the C host (playing
# wazuh-modulesd, loading libsyscollector.so with dlopen) in another, a Unix socket between
# them. After a scan of this machine and a few sync rounds, the manager must hold exactly
# the documents the library handed to the host (same index, same id), and the stateless
# events must have reached its events log.
#   sync_e2e.sh MANAGER HOST LIBRARY
set -eu
manager=$1 host=$2 lib=$3
dir=$(mktemp -d)
trap 'kill "$mpid" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$manager" serve --socket "$dir/m.sock" --db "$dir/store.db" --events "$dir/events.jsonl" 2>"$dir/manager.log" &
mpid=$!
for _ in $(seq 50); do [ -S "$dir/m.sock" ] && break; sleep 0.1; done
"$host" --lib "$lib" --db "$dir" --socket "$dir/m.sock" --sync-interval 2 --run-secs 12 \
    --collectors os,hardware,processes --summary "$dir/summary.txt" > "$dir/host.out"
kill "$mpid"
wait "$mpid" || true
grep -q "sync ok" "$dir/host.out" || { echo "no successful sync"; cat "$dir/host.out"; exit 1; }
sort "$dir/summary.txt" > "$dir/agent.ids"
"$manager" ids --db "$dir/store.db" | sort > "$dir/manager.ids"
agent=$(wc -l < "$dir/agent.ids")
[ "$agent" -gt 3 ] || { echo "agent handed over only $agent documents"; exit 1; }
if ! diff "$dir/agent.ids" "$dir/manager.ids" > "$dir/diff.txt"; then
    echo "manager store differs from the agent's documents:"; head -20 "$dir/diff.txt"; exit 1
fi
for index in system hardware processes; do
    grep -c "wazuh-states-inventory-$index " "$dir/manager.ids" | sed "s/^/$index: /"
done
events=$(wc -l < "$dir/events.jsonl")
[ "$events" -ge "$agent" ] || { echo "only $events stateless events for $agent documents"; exit 1; }
grep -q '"module":"inventory"' "$dir/events.jsonl" || { echo "events are not inventory events"; exit 1; }
echo "1 passed, 0 failed"
