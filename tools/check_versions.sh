#!/bin/sh
# sh tools/check_versions.sh VERSION: the project's version (the Makefile's
# VERSION) must be the one every other place states, or a package would
# carry one number and its contents another. Run by make deb and make wheel.
set -eu
want=${1:?usage: check_versions.sh VERSION}
bad=0
check() { # file what got
    if [ "$3" != "$want" ]; then
        echo "version: $1: $2 is '$3', the Makefile's VERSION is $want" >&2
        bad=1
    fi
}
check include/imgclass.h IMGCLASS_VERSION \
    "$(sed -n 's/^#define IMGCLASS_VERSION "\(.*\)"$/\1/p' include/imgclass.h)"
check bindings/python/pyproject.toml version \
    "$(sed -n 's/^version = "\(.*\)"$/\1/p' bindings/python/pyproject.toml)"
check bindings/python/imgclass/_lib.py BINDING_VERSION \
    "$(sed -n 's/^BINDING_VERSION = "\(.*\)"$/\1/p' bindings/python/imgclass/_lib.py)"
# debian/changelog: the upstream part (before a Debian revision, if any).
deb=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog)
check debian/changelog "the first entry's version (upstream part)" "${deb%-*}"
exit $bad
