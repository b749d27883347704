#!/bin/sh
# Runs the phases of `make check` one after another, every phase even when
# an earlier one failed, then prints each phase's totals and the overall
# totals (passed, failed, skipped) and exits non-zero if anything failed.
#   sh test/check_phases.sh SUMMARY_FILE MAKE LABEL:TARGET...
# Each phase's test/run_all.sh appends "LABEL passed failed skipped
# [failed suites...]" to SUMMARY_FILE. A phase that stops before its tests
# report (a build error) or exits non-zero without a failed suite is
# recorded here as one failure, so it can never vanish from the totals.
# The wall time of each phase (its build included) is printed at the end.
set -u
summary=$1 make=$2
shift 2
: > "$summary"
times_file=$(mktemp "${TMPDIR:-/tmp}/imgclass-check-phases.XXXXXX") || exit 1
trap 'rm -f "$times_file"' EXIT
start=$(date +%s)
: > "$summary.skips" # each run_all.sh's skips, with their reasons
for spec in "$@"; do
    label=${spec%%:*} target=${spec#*:}
    echo "##### check phase $label (make $target)"
    t0=$(date +%s)
    $make "$target" SUMMARY_FILE="$summary"
    rc=$?
    echo "$label $(($(date +%s) - t0))" >> "$times_file"
    if [ $rc -ne 0 ]; then
        recorded_failures=$(awk -v l="$label" '$1 == l {f += $3} END {print f + 0}' "$summary")
        if [ "$recorded_failures" -eq 0 ]; then
            echo "$label 0 1 0 make-$target-exit-$rc" >> "$summary"
        fi
    fi
done
echo "##### check phase times (wall, build included)"
awk -v total=$(($(date +%s) - start)) \
    '{ printf "  %-9s %3dm%02ds\n", $1 ":", $2 / 60, $2 % 60 }
     END { printf "  %-9s %3dm%02ds\n", "total:", total / 60, total % 60 }' "$times_file"
echo "##### check totals"
awk '{
        p[$1] += $2; f[$1] += $3; s[$1] += $4
        if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 }
        for (i = 5; i <= NF; i++) names = names " " $1 "/" $i
        tp += $2; tf += $3; ts += $4
     }
     END {
        for (i = 0; i < n; i++)
            printf "  %-9s %d passed, %d failed, %d skipped\n", order[i] ":", p[order[i]], f[order[i]], s[order[i]]
        if (names != "") printf "failed:%s\n", names
        printf "check: %d passed, %d failed, %d skipped\n", tp, tf, ts
        exit tf > 0 || tp == 0
     }' "$summary"
rc=$?
if [ -s "$summary.skips" ]; then
    echo "skipped, each with its reason:"
    sed 's/^/  /' "$summary.skips"
fi
exit $rc
