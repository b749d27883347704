#!/bin/sh
# The systemd template units (examples/systemd): systemd-analyze verify
# accepts them, systemd-analyze security rates each 2.5 or lower, and each
# keeps the settings the project promises (Type=notify, the drain on
# SIGTERM, least privilege). The units are generated here for the build
# tree's programs (the installed ones name $(BINDIR)), and their man pages
# are found in docs/. Readiness and the watchdog are tested by
# service_notify.sh, which plays the service manager.
set -u
BUILD=${BUILD:-build}
command -v systemd-analyze >/dev/null ||
    { echo "FAIL: systemd-analyze missing (tools/deps.sh installs systemd)"; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgclass-units.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
bindir=$(cd "$BUILD" && pwd)
mkdir -p "$TMP/man/man1"
cp docs/imgclass-serve.1 docs/imgclass-watch.1 "$TMP/man/man1/"
for in in examples/systemd/*.service.in; do
    unit=$TMP/$(basename "$in" .in)
    sed "s|@BINDIR@|$bindir|g" "$in" > "$unit"
    name=$(basename "$unit")
    out=$(cd "$TMP" && MANPATH=$TMP/man systemd-analyze verify "./$name" 2>&1)
    [ -z "$out" ] && echo "ok: $name: systemd-analyze verify" ||
        fail "$name: systemd-analyze verify: $out"
    score=$(cd "$TMP" && systemd-analyze security --offline=true "./$name" 2>&1 |
            sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }'; then
        echo "ok: $name: exposure $score (<= 2.5)"
    else
        fail "$name: exposure '${score:-none}', want <= 2.5"
    fi
    for want in "Type=notify" "Restart=on-failure" "DynamicUser=yes" "ProtectSystem=strict" \
                "ProtectHome=yes" "NoNewPrivileges=yes" "WatchdogSec="; do
        grep -q "^$want" "$unit" || fail "$name lacks $want"
    done
done
grep -q '^StateDirectory=imgclass-watch/%i' "$TMP/imgclass-watch@.service" &&
    grep -q -- '--state ${STATE_DIRECTORY}' "$TMP/imgclass-watch@.service" ||
    fail "imgclass-watch@.service keeps its journal outside StateDirectory="
[ $failures -eq 0 ] && echo "systemd units: all checks passed"
[ $failures -eq 0 ]
