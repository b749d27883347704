#!/bin/sh
# int8 and bf16 with real trained weights, offline: a small CNN trained here on
# scikit-learn's digits, exported in float32 and int8, classified through
# imgclass; int8 within 1 point of float32 and equal to Python running the
# same file to 1e-6 (helpers/int8_digits.py says how).
# Not under the sanitizers (make check-asan): almost all of its time is
# Python, and the C it drives is checked there by other suites.
if [ "${SANITIZED:-0}" = 1 ]; then
    echo "SKIP: not under the sanitizers: training and export are Python; the C path of an int8 model (load, predict) runs under ASan in unit/test_model"
    exit 77
fi
. "$(dirname "$0")/helpers/common.sh"
IMGCLASS_OFFLINE=1 # tools/export_model.py never downloads here
export IMGCLASS_OFFLINE
$PYTHON "$HERE/helpers/int8_digits.py" "$IC" "$TMP"
rc=$?
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] && ok "int8 digits accuracy and parity" || fail "int8 digits (exit $rc)"
finish
