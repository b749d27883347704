#!/bin/sh
# A short run of every fuzz target (test/fuzz/run.sh --smoke): a few
# seconds each under the memory and time bounds, from the generated seeds
# and a fresh temporary corpus (never the one make fuzz accumulates in
# $BUILD/fuzz/corpus), so the verdict is the same on every run.
set -u
BUILD=${BUILD:-build}
export BUILD
exec sh test/fuzz/run.sh --smoke
