#!/bin/sh
# make check's last phase, "deb": make check-deb (test/deb/check_deb.sh)
# where it can leave the machine as it found it, its result in make
# check's summary ("deb PASSED FAILED SKIPPED"; each "ok:" line of
# check_deb.sh a pass, each "FAIL:" line a failure).
# check-deb installs packages, so it needs root, and it refuses a machine
# where a libimgclass is installed already (purging would remove what was
# not its own). In either case the phase is skipped, and the skip listed
# with its reason: the README's test command runs as root on a fresh
# machine, as CI does, where neither applies.
#   sh test/deb/check_deb_phase.sh MAKE SUMMARY_FILE
set -u
make=$1 summary=$2
skip() {
    echo "deb: skipped: $1"
    echo "deb 0 0 1" >> "$summary"
    echo "deb/check-deb: $1" >> "$summary.skips"
    exit 0
}
[ "$(id -u)" -eq 0 ] || skip "not root (it installs the packages into this machine; run make check-deb as root)"
if dpkg-query -W -f='${binary:Package} ${db:Status-Abbrev}\n' 'libimgclass*' 'imgclass-tools' \
        'python3-imgclass' 2>/dev/null | grep -qv ' un'; then
    skip "imgclass packages are installed on this machine (purge them, then run make check-deb)"
fi
ldconfig -p | grep -q 'libimgclass\.so' &&
    skip "a libimgclass is in the linker cache (a make install?), which check-deb would not leave as found"
log=$(mktemp "${TMPDIR:-/tmp}/imgclass-check-deb.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
$make check-deb 2>&1 | tee "$log"
passed=$(grep -c '^ok: ' "$log")
failed=$(grep -c '^FAIL: ' "$log")
# A failure before any check (make deb, lintian) counts as one.
if ! grep -q '^check-deb: all checks passed' "$log" && [ "$failed" -eq 0 ]; then
    failed=1
fi
names=""
[ "$failed" -gt 0 ] && names=" check-deb"
echo "deb $passed $failed 0$names" >> "$summary"
[ "$failed" -eq 0 ]
