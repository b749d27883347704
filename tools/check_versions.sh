#!/bin/sh
# sh tools/check_versions.sh VERSION: the project's version is stated once,
# in include/imgclass.h (IMGCLASS_VERSION_*); the Makefile reads it and
# writes bindings/python/imgclass/_version.py, which pyproject.toml reads.
# What cannot read it must agree with it, or a package would carry one
# number and its contents another: debian/changelog (dpkg's own format)
# and the generated _version.py (stale if make did not rewrite it). Run by
# make deb and make wheel.
set -eu
want=${1:?usage: check_versions.sh VERSION}
bad=0
check() { # file what got
    if [ "$3" != "$want" ]; then
        echo "version: $1: $2 is '$3', include/imgclass.h's is $want" >&2
        bad=1
    fi
}
check bindings/python/imgclass/_version.py __version__ \
    "$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' bindings/python/imgclass/_version.py 2>/dev/null)"
# debian/changelog: the upstream part (before a Debian revision, if any).
deb=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog)
check debian/changelog "the first entry's version (upstream part)" "${deb%-*}"
exit $bad
