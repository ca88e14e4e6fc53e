#!/bin/sh
# Regenerates the Rust code of the sync wire schema with the official FlatBuffers compiler
# (Debian: apt-get install flatbuffers-compiler, flatc 2.0.8, matching the flatbuffers 2.x crate).
# flatc 2.0.8 writes `Option<...>` for std's Option, which the schema's own enum named
# `Option` shadows; the sed below qualifies those uses. Run from the repository root.
set -eu
out=src/sync_protocol/wire
tmp=$(mktemp -d)
flatc --rust -o "$tmp" schemas/inventorySync.fbs
sed 's/\bOption</::core::option::Option</g' "$tmp/inventorySync_generated.rs" > "$out/inventory_sync_generated.rs"
rm -rf "$tmp"
echo "wrote $out/inventory_sync_generated.rs"
