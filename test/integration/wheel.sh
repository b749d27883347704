#!/bin/sh
# make wheel, then what a Python user of the wheel does: pip installs it
# into a fresh venv (--system-site-packages for numpy; --no-index: offline)
# and classifies photos with it, from outside the source tree. Checks:
#   - the wheel's name (imgclass-VERSION-py3-none-PLATFORM.whl);
#   - the module comes from the venv and loads the library bundled in it
#     (library_source "bundled"), whatever else the machine has installed;
#   - its engine module is the installed libimgclass-torch's when there is
#     one, else this build tree's (the dynamic loader's own trace says which);
#   - the results are PyTorch's (cli_check.py, the CLI suites' reference).
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
if [ "${SANITIZED:-0}" = 1 ]; then
    echo "wheel: skipped under sanitizers (python cannot load a sanitized library)"
    exit 77
fi
fail() { echo "FAIL: wheel: $*"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
build_abs=$(cd "$BUILD" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgclass-wheel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

. test/integration/helpers/project_version.sh
version=$(project_version)
make -s BUILD="$BUILD" PYTHON="$PYTHON" WHEEL_DIST="$tmp/dist" wheel >"$tmp/make.log" 2>&1 ||
    { tail -20 "$tmp/make.log"; fail "make wheel failed"; }
plat=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_platform().replace("-", "_").replace(".", "_"))')
whl=$tmp/dist/imgclass-$version-py3-none-$plat.whl
[ -f "$whl" ] || { ls "$tmp/dist"; fail "no $whl"; }
echo "ok: built $(basename "$whl")"

"$PYTHON" -m venv --system-site-packages "$tmp/venv" || fail "python3 -m venv failed"
"$tmp/venv/bin/python" -m pip install --no-index --quiet "$whl" >"$tmp/pip.log" 2>&1 ||
    { cat "$tmp/pip.log"; fail "pip install of the wheel failed"; }
echo "ok: pip installed it into a fresh venv"

M=${IMGCLASS_TEST_MODELS:-$BUILD/test-models}
if [ ! -f "$M/tiny.pt" ]; then
    M=$tmp/models
    "$PYTHON" test/models/make_test_models.py "$M" >/dev/null || fail "cannot make test models"
fi
M=$(cd "$M" && pwd)
printf 'tabby\nbee\nteapot\nvolcano\nkoala\n' > "$tmp/labels.txt"
# Photos: skimage's sample data (tools/deps.sh installs python3-skimage), a
# PNG and a JPEG, found without importing skimage (slow).
skdata=$("$PYTHON" -c "import importlib.util as u; s = u.find_spec('skimage'); print(s.submodule_search_locations[0] + '/data' if s else '')")
photos=""
for name in chelsea.png hubble_deep_field.jpg; do
    [ -f "$skdata/$name" ] && photos="$photos $skdata/$name"
done
[ -n "$photos" ] || fail "no photos in '$skdata': install python3-skimage (sh tools/deps.sh)"

# The wheel's own search: no override, no source tree on the path.
if [ -e "/usr/lib/$(cc -print-multiarch)/imgclass/libimgclass-torch.so" ]; then
    engine=/usr/lib/$(cc -print-multiarch)/imgclass/libimgclass-torch.so
else
    engine=$build_abs/libimgclass-torch.so
fi
# shellcheck disable=SC2086
(cd "$tmp" && env -u IMGCLASS_ENGINE_PATH -u IMGCLASS_LIBRARY -u PYTHONPATH LD_DEBUG=files \
    "$tmp/venv/bin/python" "$HERE/helpers/binding_classify.py" "$tmp/info.json" "$M/tiny.pt" \
    "$tmp/labels.txt" $photos >"$tmp/out.jsonl" 2>"$tmp/trace") ||
    { grep -v '^ *[0-9]*:' "$tmp/trace" | tail -20; fail "classifying with the wheel failed"; }
"$PYTHON" - "$tmp/info.json" "$tmp/venv" <<'PY' || fail "the module or its library is not the wheel's"
import json, os, sys
info, venv = json.load(open(sys.argv[1])), os.path.realpath(sys.argv[2])
module = os.path.realpath(info["module"])
assert module.startswith(venv + os.sep), f"imgclass imported from {module}, not from {venv}"
want = os.path.join(os.path.dirname(module), "libimgclass.so")
assert info["library_source"] == "bundled", f"library from {info['library_source']}: {info}"
assert os.path.realpath(info["library_path"]) == want, f"library {info['library_path']}, want {want}"
print(f"ok: imgclass {info['library_version']} from the venv, its bundled {want}")
PY
grep -q "file=$engine " "$tmp/trace" || fail "the engine module loaded was not $engine"
echo "ok: engine module $engine"
# shellcheck disable=SC2086
"$PYTHON" "$HERE/helpers/cli_check.py" check json 5 "$M/tiny.pt" "$tmp/labels.txt" \
    "$tmp/out.jsonl" $photos || fail "the wheel's results differ from PyTorch's"
echo "ok: $(wc -l < "$tmp/out.jsonl") photos classified as PyTorch does"
echo "wheel: all checks passed"
