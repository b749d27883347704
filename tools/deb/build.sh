#!/bin/sh
# make deb: builds the Debian packages of debian/ with
# `dpkg-buildpackage -b -us -uc`, offline, then runs lintian on them
# (errors and warnings fail). The build runs in a copy of the source tree,
# OUT/src, so the packages land in OUT (dpkg-buildpackage writes them next
# to the source folder) and the checkout's own build/ is not touched.
#   sh tools/deb/build.sh VERSION [OUT]      (OUT defaults to build-deb)
# The project's tests are not run here (debian/rules); make check-deb
# installs and tests the packages.
set -eu
version=${1:?usage: build.sh VERSION [OUT]}
out=${2:-build-deb}
sh tools/check_versions.sh "$version"
for tool in dpkg-buildpackage dh lintian fakeroot; do
    command -v "$tool" >/dev/null ||
        { echo "deb: $tool missing (sh tools/deps.sh installs it)" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out/src"
# The files of the tree, as git sees them (tracked, and new ones not
# ignored), or every file but the build folders outside a git checkout.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard | while IFS= read -r f; do
        [ -e "$f" ] || [ -L "$f" ] && printf '%s\n' "$f"
    done | sort -u > "$out/files"
    tar -cf - -T "$out/files" | tar -xf - -C "$out/src"
else
    tar -cf - --exclude='./build' --exclude='./build-*' --exclude='./.git' \
        --exclude='__pycache__' --exclude='*.egg-info' --exclude='./bindings/python/build' . |
        tar -xf - -C "$out/src"
fi

jobs=$(nproc 2>/dev/null || echo 2)
# -b: binary packages only; -us -uc: unsigned; the build dependencies are
# checked (dpkg-checkbuilddeps) and nothing is downloaded. The build sees
# the system's tools only, as a Debian build daemon would: no python3 of
# another installation ahead on PATH, and no make flags of the make that
# called this (debian/rules runs its own, with DEB_BUILD_OPTIONS' jobs).
(cd "$out/src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -b -us -uc) > "$out/build.log" 2>&1 ||
    { tail -40 "$out/build.log"; echo "deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
      exit 1; }
rm -rf "$out/src" "$out/files"

changes=$(ls "$out"/imgclass_"$version"_*.changes)
# lintian reads debian/source/lintian-overrides and the packages' own
# overrides; each override says why next to it.
lintian --fail-on error,warning --display-level ">=warning" "$changes" ||
    { echo "deb: lintian found errors or warnings (above)" >&2; exit 1; }
echo "deb: packages in $out:"
ls -1 "$out"/*.deb
