#!/bin/sh
# A short run of every fuzz target (test/fuzz/run.sh --smoke): a few
# seconds each under the memory and time bounds. make fuzz runs them long.
set -u
BUILD=${BUILD:-build}
export BUILD
exec sh test/fuzz/run.sh --smoke
