#!/bin/sh
# Runs the test suites and prints one closing line "N passed, N failed, N
# skipped" (suites passed and failed; suites and tests skipped, each listed
# above that line with its reason).
#   sh test/run_all.sh [--unit] [--parity] [--integration] [--python] [--hostile]
#                      [--layering]
#   (default: all)
# Environment: BUILD (build folder), PYTHON (the interpreter with torch),
# UNIT_TESTS / INTEGRATION_TESTS (names: only those unit binaries / suites),
# VALGRIND=1 runs the unit binaries under valgrind, leaks counted as errors.
set -u
BUILD=${BUILD:-build}
IMGCLASS_TEST_MODELS=${IMGCLASS_TEST_MODELS:-$BUILD/test-models}
export IMGCLASS_TEST_MODELS
PYTHON=${PYTHON:-/usr/bin/python3}
export BUILD PYTHON
# The suites test this build's engine module, never one installed on the
# machine (which the core would otherwise look at first).
case "$BUILD" in /*) build_abs=$BUILD ;; *) build_abs=$(pwd)/$BUILD ;; esac
IMGCLASS_ENGINE_PATH=${IMGCLASS_ENGINE_PATH:-$build_abs/libimgclass-torch.so}
export IMGCLASS_ENGINE_PATH

want_unit=0 want_parity=0 want_integration=0 want_python=0 want_hostile=0 want_layering=0
[ $# -eq 0 ] && { want_unit=1; want_parity=1; want_integration=1; want_python=1; want_hostile=1
                  want_layering=1; }
for a in "$@"; do
    case "$a" in
    --unit) want_unit=1 ;;
    --parity) want_parity=1 ;;
    --integration) want_integration=1 ;;
    --python) want_python=1 ;;
    --hostile) want_hostile=1 ;;
    --layering) want_layering=1 ;;
    *) echo "run_all.sh: unknown option $a" >&2; exit 2 ;;
    esac
done

# Where the time goes: each suite's wall time and the CPU time (user +
# system) of the processes it waited for, printed after it and, slowest
# first, at the end. A suite with far less CPU than wall time mostly waits
# (sleeps, timeouts, a server): one to overlap with CPU-bound work.
# The CPU time is this shell's cutime + cstime (/proc/$$/stat, read also
# from a subshell: $$ stays this shell's pid), in clock ticks.
ticks=$(getconf CLK_TCK 2>/dev/null || echo 100)
children_cpu() {
    awk -v hz="$ticks" '{ sub(/^.*\) /, ""); printf "%.2f", ($14 + $15) / hz }' "/proc/$$/stat"
}
timings=""

# A suite exits 0 when it passed, 77 when it could not run here (counted
# as skipped, never as passed), anything else when it failed.
# A test inside a suite may skip only for a reason outside the project (no
# AVX2 on this CPU, no onednn in this torch): it appends "test: reason" to
# the file IMGCLASS_SKIP_LOG names (test/unit/skip_note.h for the unit
# tests, test/python/conftest.py for every pytest skip). Each such skip is
# counted as skipped too, and every skip is listed with its reason at the
# end (and in SUMMARY_FILE.skips for make check's closing summary).
passed=0 failed=0 skipped=0 failures=""
skip_dir=$(mktemp -d "${TMPDIR:-/tmp}/imgclass-skips.XXXXXX") || exit 1
trap 'rm -rf "$skip_dir"' EXIT
trap 'exit 130' INT TERM
IMGCLASS_SKIP_LOG=$skip_dir/suite
export IMGCLASS_SKIP_LOG
# The programs' model cache (imgclass_model_options.cache_dir) lives in
# this run's folder, never in the user's ~/.cache: every suite that loads a
# model through the CLI, the server or the watcher goes through it, the
# first load of each model a miss and the later ones hits.
IMGCLASS_CACHE_DIR=${IMGCLASS_CACHE_DIR-$skip_dir/model-cache}
export IMGCLASS_CACHE_DIR
: > "$skip_dir/list"
run_suite() { # name command...
    name=$1; shift
    echo "=== $name"
    : > "$IMGCLASS_SKIP_LOG"
    t0=$(date +%s.%N) c0=$(children_cpu)
    "$@"
    rc=$?
    line=$(awk -v n="$name" -v t0="$t0" -v t1="$(date +%s.%N)" -v c0="$c0" \
               -v c1="$(children_cpu)" 'BEGIN { printf "%.1f %.1f %s", t1 - t0, c1 - c0, n }')
    timings="$timings$line
"
    echo "$line" | awk '{ printf "=== %s: %s s wall, %s s CPU\n", $3, $1, $2 }'
    inner=$(grep -c . "$IMGCLASS_SKIP_LOG")
    skipped=$((skipped + inner))
    awk -v n="$name" 'NF { print n ": " $0 }' "$IMGCLASS_SKIP_LOG" >> "$skip_dir/list"
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
    elif [ $rc -eq 77 ]; then
        skipped=$((skipped + 1)); echo "=== SKIPPED: $name"
        [ "$inner" -eq 0 ] &&
            echo "$name: could not run here (exit 77; the reason is printed above)" >> "$skip_dir/list"
    else
        failed=$((failed + 1)); failures="$failures $name"
        # 86: the sanitizers' own exit status (the Makefile's check-asan).
        why=""
        [ $rc -eq 86 ] && why=": a sanitizer report"
        echo "=== FAILED: $name (exit $rc$why)"
    fi
}

if [ "${VALGRIND:-0}" = 1 ]; then
    # See the Makefile: works around valgrind's SIGILL in libhwy's loader.
    LD_PRELOAD="$(pwd)/$BUILD/test/valgrind_hwy_shim.so${LD_PRELOAD:+:$LD_PRELOAD}"
    # libjpeg-turbo's SIMD region decoding trips memcheck's definedness
    # tracking (vector lanes of its internal buffers that are loaded but
    # never affect a pixel: outputs are identical under any MALLOC_PERTURB_
    # fill). libjpeg-turbo's own test suite runs valgrind the same way, with
    # SIMD off; the parity tests cover the SIMD path.
    JSIMD_FORCENONE=1
    export LD_PRELOAD JSIMD_FORCENONE
    VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
        --show-leak-kinds=definite --suppressions=test/valgrind.supp"
else
    VG=""
fi

if [ $want_unit = 1 ]; then
    for t in "$BUILD"/test/test_*; do
        [ -x "$t" ] || continue
        # UNIT_TESTS="test_a test_b" limits the run to those binaries.
        if [ -n "${UNIT_TESTS:-}" ]; then
            case " $UNIT_TESTS " in *" $(basename "$t") "*) ;; *) continue ;; esac
        fi
        # shellcheck disable=SC2086
        run_suite "unit/$(basename "$t")" $VG "$t"
    done
fi
if [ $want_parity = 1 ]; then
    for t in test/parity/*.sh; do
        [ -f "$t" ] && run_suite "parity/$(basename "$t" .sh)" sh "$t"
    done
fi
if [ $want_integration = 1 ]; then
    for t in test/integration/*.sh; do
        [ -f "$t" ] || continue
        # INTEGRATION_TESTS="a b" limits the run to those suites.
        if [ -n "${INTEGRATION_TESTS:-}" ]; then
            case " $INTEGRATION_TESTS " in *" $(basename "$t" .sh) "*) ;; *) continue ;; esac
        fi
        run_suite "integration/$(basename "$t" .sh)" sh "$t"
    done
fi
# The Python binding (bindings/python), one pytest suite.
if [ $want_python = 1 ]; then
    run_suite "python/pytest" sh test/python/run.sh
fi
# Hostile inputs under memory and CPU bounds (test/hostile/): not under
# the sanitizers or valgrind, whose own memory use would hide the bound.
if [ $want_hostile = 1 ]; then
    for t in test/hostile/*.sh; do
        [ -f "$t" ] && run_suite "hostile/$(basename "$t" .sh)" sh "$t"
    done
fi

# The source layout (test/layering/): include rules read from lib/, and the
# call graph read from this build's objects ($BUILD/lib/*.o, which must be
# there: `make test` builds them first). Once in the plain suites and not
# again per sanitizer: the layering is the sources', not the build's.
if [ $want_layering = 1 ]; then
    for t in test/layering/*.sh; do
        [ -f "$t" ] && run_suite "layering/$(basename "$t" .sh)" sh "$t"
    done
fi

if [ -n "$timings" ]; then
    echo "suite times (${SUMMARY_LABEL:-run}), slowest first: wall s, CPU s"
    printf '%s' "$timings" | sort -rn |
        awk '{ printf "  %7.1f %7.1f  %s\n", $1, $2, $3; w += $1; c += $2 }
             END { printf "  %7.1f %7.1f  total\n", w, c }'
fi

if [ -n "${SUMMARY_FILE:-}" ]; then
    echo "${SUMMARY_LABEL:-run} $passed $failed $skipped$failures" >> "$SUMMARY_FILE"
    awk -v l="${SUMMARY_LABEL:-run}" '{ print l "/" $0 }' "$skip_dir/list" >> "$SUMMARY_FILE.skips"
fi
[ -n "$failures" ] && echo "failed suites:$failures"
if [ -s "$skip_dir/list" ]; then
    echo "skipped, each with its reason:"
    sed 's/^/  /' "$skip_dir/list"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
