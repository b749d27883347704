#!/bin/sh
# Runs the phases of `make check`, every phase even when an earlier one
# failed, then prints each phase's totals and the overall totals (passed,
# failed, skipped) and exits non-zero if anything failed.
#   sh test/check_phases.sh SUMMARY_FILE MAKE LABEL:TARGET[&|@EARLIER]...
# Phases run one after another; one marked "&" starts in the background
# (niced: the foreground phase is the one the total waits for) alongside
# those that follow (its output is held and printed after them):
# for a phase that mostly computes beside one that mostly waits. It must
# build nothing the phases beside it build. Once a phase has failed (a
# build error could leave two makes building the same files), the phases
# marked "&" run in the foreground like the others. A phase written
# LABEL:TARGET@EARLIER first waits for the background phase EARLIER (its
# output is printed then): a phase that builds in the background what a
# later one tests, so that no two makes ever build the same files.
# Each phase's test/run_all.sh appends "LABEL passed failed skipped
# [failed suites...]" to SUMMARY_FILE. A phase that stops before its tests
# report (a build error) or exits non-zero without a failed suite is
# recorded here as one failure, so it can never vanish from the totals.
# The wall time of each phase (its build included) is printed at the end.
set -u
summary=$1 make=$2
shift 2
: > "$summary"
work=$(mktemp -d "${TMPDIR:-/tmp}/imgclass-check-phases.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
: > "$summary.skips" # each run_all.sh's skips, with their reasons

# After phase LABEL ended with status RC: a failure nothing recorded is
# recorded as one.
any_failed=0
record_exit() { # label target rc
    if [ "$3" -ne 0 ]; then
        any_failed=1
        recorded_failures=$(awk -v l="$1" '$1 == l {f += $3} END {print f + 0}' "$summary")
        if [ "$recorded_failures" -eq 0 ]; then
            echo "$1 0 1 0 make-$2-exit-$3" >> "$summary"
        fi
    fi
}

# Waits for the background phase whose job is "LABEL:TARGET:PID", prints its
# held output and records its time and status.
finish_background() { # job
    b_label=${1%%:*} b_rest=${1#*:}
    b_target=${b_rest%:*} b_pid=${b_rest##*:}
    wait "$b_pid"
    echo "##### check phase $b_label (make $b_target), run alongside the phases above"
    cat "$work/$b_label.log"
    read -r b_rc b_seconds < "$work/$b_label.end" || { b_rc=1 b_seconds=0; }
    echo "$b_label $b_seconds" >> "$work/times"
    record_exit "$b_label" "$b_target" "$b_rc"
}

background=""
for spec in "$@"; do
    case $spec in
    *"&") spec=${spec%"&"} bg=$((1 - any_failed)) ;;
    *) bg=0 ;;
    esac
    after=""
    case $spec in
    *@*) after=${spec##*@} spec=${spec%@*} ;;
    esac
    label=${spec%%:*} target=${spec#*:}
    if [ -n "$after" ]; then
        left=""
        for job in $background; do
            if [ "${job%%:*}" = "$after" ]; then finish_background "$job"; else left="$left $job"; fi
        done
        background=$left
    fi
    if [ $bg = 1 ]; then
        echo "##### check phase $label (make $target) started alongside the next; its output comes after them"
        (
            t0=$(date +%s)
            nice -n 10 $make "$target" SUMMARY_FILE="$summary" > "$work/$label.log" 2>&1
            echo "$? $(($(date +%s) - t0))" > "$work/$label.end"
        ) &
        background="$background $label:$target:$!"
        continue
    fi
    echo "##### check phase $label (make $target)"
    t0=$(date +%s)
    $make "$target" SUMMARY_FILE="$summary"
    rc=$?
    echo "$label $(($(date +%s) - t0))" >> "$work/times"
    record_exit "$label" "$target" $rc
done
for job in $background; do
    finish_background "$job"
done
echo "##### check phase times (wall, build included)"
awk -v total=$(($(date +%s) - start)) \
    '{ printf "  %-9s %3dm%02ds\n", $1 ":", $2 / 60, $2 % 60 }
     END { printf "  %-9s %3dm%02ds\n", "total:", total / 60, total % 60 }' "$work/times"
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
