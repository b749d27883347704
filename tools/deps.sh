#!/bin/sh
# Installs the Debian 12 packages imgclass needs to build, test, package
# (make deb, make wheel) and run its demo. Does nothing when all are present;
# without root it prints the exact command instead of running it.
set -eu

PACKAGES="build-essential pkg-config libtorch-dev libjpeg62-turbo-dev libstb-dev
zlib1g-dev libjson-c-dev libcmocka-dev valgrind man-db
python3-torch python3-torchvision python3-pil python3-numpy python3-skimage
python3-pytest python3-pip python3-setuptools python3-wheel
python3-dask python3-distributed python3-fsspec hyperfine
libmicrohttpd-dev libgnutls28-dev nettle-dev curl openssl wrk python3-requests chromium chromium-driver python3-selenium
python3-sklearn python3-opencv systemd
clang libclang-rt-14-dev
dpkg-dev debhelper dh-python pybuild-plugin-pyproject python3-all fakeroot lintian
python3-build python3-venv"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "deps: all Debian packages present"
    exit 0
fi

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages:$missing" >&2
    echo "deps: run as root: apt-get update && $cmd" >&2
    exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
$cmd
