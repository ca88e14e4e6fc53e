#!/bin/sh
# The tools the tests compare with or drive (the collectors' tests check their rows against
# the system's own tools; the packaging tests use binutils, pkg-config and dpkg). CMake's
# configure step runs this: as root with apt-get (CI, a container, a fresh Debian/Ubuntu),
# it installs what is missing; otherwise it prints one line per missing tool with the package
# that brings it, and the tests that need the tool fail saying so. It never skips a test.
# Exit status 0 either way; `--strict` exits 1 when something is still missing.
set -u
strict=0
[ "${1:-}" = "--strict" ] && strict=1

# command:Debian package
tools="ps:procps ip:iproute2 ss:iproute2 utmpdump:util-linux who:util-linux flock:util-linux
passwd:passwd getent:libc-bin systemctl:systemd dbus-daemon:dbus-daemon rpm:rpm
db5.3_load:db5.3-util db5.3_dump:db5.3-util pacman:pacman-package-manager
python3:python3 pip3:python3-pip npm:npm nm:binutils objdump:binutils cc:gcc
pkg-config:pkgconf dpkg-deb:dpkg dpkg-query:dpkg sha256sum:coreutils"

missing() {
    for t in $tools; do
        command -v "${t%%:*}" >/dev/null 2>&1 || echo "$t"
    done
    # The SBOM test makes a venv for its validator: Debian's python3 needs python3-venv.
    if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        echo "python3-venv:python3-venv"
    fi
}

todo=$(missing)
[ -z "$todo" ] && { echo "test tools: all present"; exit 0; }
packages=$(for t in $todo; do echo "${t#*:}"; done | sort -u | tr '\n' ' ')
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test tools: installing $packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages >/dev/null \
        || echo "test tools: apt-get install $packages failed"
    todo=$(missing)
fi
for t in $todo; do
    echo "test tools: '${t%%:*}' is missing; the tests that compare with it fail until it is installed (Debian: apt-get install ${t#*:})"
done
[ -n "$todo" ] && [ "$strict" -eq 1 ] && exit 1
exit 0
