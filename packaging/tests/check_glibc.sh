#!/bin/sh
# Fails when a dynamic symbol of one of FILES needs a glibc symbol version newer than MAX
# (objdump -T), and, for a shared library, when it has no SONAME or is not stripped.
#   check_glibc.sh MAX FILE...
set -eu
max=$1
shift
status=0
for f in "$@"; do
    if [ ! -f "$f" ]; then
        echo "FAIL $f: missing"; status=1; continue
    fi
    syms=$(objdump -T "$f")
    # Versions such as GLIBC_2.17 or GLIBC_2.3.4, with the symbols that need them.
    newer=$(printf '%s\n' "$syms" | awk -v max="$max" '
        function newer(v, m,   a, b, n, i, x, y) {
            n = split(v, a, "."); split(m, b, ".")
            for (i = 1; i <= 3; i++) { x = a[i] + 0; y = b[i] + 0; if (x != y) return x > y }
            return 0
        }
        { for (i = 1; i <= NF; i++) if ($i ~ /^\(?GLIBC_[0-9.]+\)?$/) {
              v = $i; gsub(/[()]/, "", v); sub(/^GLIBC_/, "", v)
              if (newer(v, max)) print "GLIBC_" v " " $NF } }')
    highest=$(printf '%s\n' "$syms" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -uV | tail -n 1)
    if [ -n "$newer" ]; then
        echo "FAIL $f: needs glibc newer than $max:"
        printf '%s\n' "$newer" | sort -u | sed 's/^/    /'
        status=1
    else
        echo "ok   $f: highest symbol version ${highest:-none} (<= GLIBC_$max)"
    fi
    case "$f" in
    *.so)
        soname=$(objdump -p "$f" | awk '$1 == "SONAME" { print $2 }')
        if [ "$soname" != "libsyscollector.so" ]; then
            echo "FAIL $f: SONAME is '${soname}', expected libsyscollector.so"; status=1
        fi
        ;;
    esac
    if objdump -h "$f" | grep -qE '[[:space:]]\.(symtab|debug_info)[[:space:]]'; then
        echo "FAIL $f: not stripped (.symtab or .debug_info present)"; status=1
    fi
done
exit $status
