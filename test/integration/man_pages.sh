#!/bin/sh
# The man pages: each renders without a warning (man --warnings), and each
# names every long option its program's --help lists, so an option added to
# a program without its page fails here.
set -u
BUILD=${BUILD:-build}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# page PROGRAM-AND-ARGS...: the long options of that --help, one a line
help_options() {
    "$@" --help 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

check_page() { # PAGE COMMAND...
    page=$1
    shift
    [ -f "$page" ] || { fail "$page is missing"; return; }
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
    [ -z "$warnings" ] || fail "$page: man --warnings: $warnings"
    # The page's text with its escaped hyphens as plain ones.
    text=$(sed 's/\\-/-/g' "$page")
    missing=""
    for o in $(help_options "$@"); do
        printf '%s\n' "$text" | grep -q -- "$o\\b" || missing="$missing $o"
    done
    if [ -n "$missing" ]; then
        fail "$page does not document$missing (from $* --help)"
    else
        echo "ok: $page documents every option of $* --help"
    fi
}

for p in imgclass imgclass-serve imgclass-watch; do
    [ -x "$BUILD/$p" ] || { echo "FAIL: $BUILD/$p not built (make BUILD=$BUILD all)"; exit 1; }
done
for sub in classify info bench preprocess; do
    check_page docs/imgclass.1 "$BUILD/imgclass" "$sub"
done
check_page docs/imgclass-serve.1 "$BUILD/imgclass-serve"
check_page docs/imgclass-watch.1 "$BUILD/imgclass-watch"
# The library's overview: renders cleanly and names every function it
# points to as they are in the header.
warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l docs/imgclass.3 2>&1 >/dev/null)
[ -z "$warnings" ] || fail "docs/imgclass.3: man --warnings: $warnings"
for f in $(grep -o 'imgclass_[a-z_]*' docs/imgclass.3 | sort -u); do
    grep -q "$f" include/imgclass.h || fail "docs/imgclass.3 names $f, which imgclass.h lacks"
done
[ $failures -eq 0 ] && echo "man pages: all checks passed"
[ $failures -eq 0 ]
