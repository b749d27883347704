#!/bin/sh
# The grown-library test (include/imgclass.h, "Compatibility"): programs
# built against today's header run against a library built with one field
# appended to every growable struct ($BUILD/grown, make abi-grow-programs,
# test/abi/grow.mk), a stand-in for a later release: the same output as
# with today's library. Covered: test/abi/abi_client.c (every option field
# set, every call that takes a struct), the three programs of examples/api,
# the CLI, imgclass-serve (one request) and imgclass-watch (one file).
# The reverse: abi_client built against the grown header, run against
# today's library: with the new fields left 0 the same output; with each set,
# a refusal naming the version it needs (and the grown library accepts it).
. "$(dirname "$0")/helpers/common.sh"

D=$BUILD/dyn
G=$BUILD/grown
for p in "$G/libimgclass.so.1" "$D/abi_client" "$G/abi_client" "$D/imgclass" "$D/imgclass-serve" \
         "$D/imgclass-watch" "$D/api/classify_files" "$D/api/camera_frames" "$D/api/pipeline_threads"; do
    [ -e "$p" ] || { echo "FAIL: $p not built (make BUILD=$BUILD abi-grow-programs)"; exit 1; }
done
TODAY=$BUILD # holds libimgclass.so.1, today's
L=$M/labels_synset.txt
$PYTHON - "$TMP" <<'PY' || { echo "FAIL: fixtures"; exit 1; }
import sys, numpy as np
from PIL import Image
y, x = np.mgrid[0:30, 0:40]
img = np.stack([x * 5 % 256, y * 7 % 256, (x ^ y) % 256], -1).astype(np.uint8)
Image.fromarray(img).save(sys.argv[1] + "/a.png")
Image.fromarray(img[::-1]).save(sys.argv[1] + "/b.jpg")
PY

# same NAME CMD...: CMD's stdout with today's library and with the grown
# one (exit statuses too) must be equal and not empty; with UNORDERED=1
# compared as sets of lines, each without its submission number and batch size.
same() {
    name=$1; shift
    LD_LIBRARY_PATH=$TODAY "$@" >"$TMP/today" 2>"$TMP/today.err"; rc1=$?
    LD_LIBRARY_PATH=$G "$@" >"$TMP/grown" 2>"$TMP/grown.err"; rc2=$?
    if [ -n "${UNORDERED:-}" ]; then # threads submit in any order: compare sorted
        for f in today grown; do
            sed -e 's/^[0-9][0-9]* //' -e 's/, batch of [0-9]*$//' "$TMP/$f" | sort > "$TMP/$f.sorted" && mv "$TMP/$f.sorted" "$TMP/$f"
        done
    fi
    if [ ! -s "$TMP/today" ]; then
        fail "$name: no output with today's library (exit $rc1): $(head -3 "$TMP/today.err")"
    elif [ $rc1 -ne $rc2 ] || ! cmp -s "$TMP/today" "$TMP/grown"; then
        fail "$name: exit $rc1 / $rc2, output differs with the grown library:"
        diff "$TMP/today" "$TMP/grown" | head -10 | sed 's/^/    /'
        head -3 "$TMP/grown.err" | sed 's/^/    /'
    else
        ok "$name: the same output with the grown library ($(wc -l < "$TMP/today") lines)"
    fi
}

# The libraries are what they claim: the grown one has bigger structs.
LD_LIBRARY_PATH=$G "$D/abi_client" /nonexistent.pt x 2>/dev/null | grep -q "^library 0" ||
    fail "the grown library does not load"

same "abi_client (every option set)" "$D/abi_client" "$M/tiny.pt" "$TMP/a.png"
cp "$TMP/today" "$TMP/client.today"
grep -q "^classify 0 status 0: " "$TMP/client.today" && grep -q "^stats: 3 submitted" "$TMP/client.today" ||
    fail "abi_client did not classify: $(cat "$TMP/client.today")"
same "classify_files" "$D/api/classify_files" "$M/tiny.pt" "$L" "$TMP/a.png" "$TMP/b.jpg"
same "camera_frames" "$D/api/camera_frames" "$M/tiny.pt" 3
UNORDERED=1 same "pipeline_threads" "$D/api/pipeline_threads" "$M/tiny.pt" 2 "$TMP/a.png" "$TMP/b.jpg"
same "imgclass classify" "$D/imgclass" classify --model "$M/tiny.pt" --labels "$L" $PP --json \
    -k 3 "$TMP/a.png" "$TMP/b.jpg"

# imgclass-watch: one file, --once; the record without its time.
watch_once() {
    rm -rf "$TMP/w" && mkdir -p "$TMP/w/in" && cp "$TMP/a.png" "$TMP/w/in/" &&
        timeout 120 "$D/imgclass-watch" --model "$M/tiny.pt" $PP --input "$TMP/w/in" \
            --output "$TMP/w/out" --once 2>"$TMP/w.err" &&
        find "$TMP/w/out" -name '*.jsonl' -exec cat {} + | sed 's/"time": "[^"]*", //'
}
same "imgclass-watch --once, one file" watch_once

# imgclass-serve: one POST /predictions, then SIGTERM.
serve_once() {
    $PYTHON - "$D/imgclass-serve" "$M/tiny.pt" "$TMP/a.png" <<'PY'
import re, subprocess, sys, urllib.request
serve, model, img = sys.argv[1:4]
p = subprocess.Popen([serve, "--model", "tiny=" + model, "--listen", "127.0.0.1:0",
                      "--size", "8x8", "--crop", "none"], stderr=subprocess.PIPE)
port = None
for line in p.stderr:
    m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)", line)
    if m:
        port = int(m.group(1))
        break
if port is None:
    sys.exit("imgclass-serve did not start")
body = open(img, "rb").read()
req = urllib.request.Request("http://127.0.0.1:%d/predictions/tiny" % port, data=body,
                             method="POST")
print(urllib.request.urlopen(req, timeout=60).read().decode())
p.terminate()
sys.exit(p.wait(60))
PY
}
same "imgclass-serve, POST /predictions/tiny" serve_once

# --- the reverse: a program built against the grown header ------------
LD_LIBRARY_PATH=$TODAY "$G/abi_client" "$M/tiny.pt" "$TMP/a.png" >"$TMP/rev" 2>"$TMP/rev.err"
cmp -s "$TMP/rev" "$TMP/client.today" &&
    ok "grown-header abi_client, its new fields 0, on today's library: the same output" ||
    { fail "grown-header abi_client on today's library differs:"; diff "$TMP/client.today" "$TMP/rev" | head; }
LD_LIBRARY_PATH=$TODAY "$G/abi_client" "$M/tiny.pt" "$TMP/a.png" set >"$TMP/set" 2>&1
. "$HERE/helpers/project_version.sh"
n=$(grep -c "refused: .*needs a newer libimgclass than $(project_version)" "$TMP/set")
[ "$n" -eq 9 ] && ! grep -q ": accepted" "$TMP/set" &&
    ok "each new field set: refused 9 times on today's library, naming the version it needs" ||
    { fail "new fields set on today's library: $n refusals of 9:"; sed 's/^/    /' "$TMP/set"; }
grep -q "test_grown after stats_get: 0" "$TMP/set" && grep -q "test_grown after probe: 0" "$TMP/set" &&
    ok "output structs: the fields today's library does not know come back 0" ||
    fail "output structs' new fields: $(grep test_grown "$TMP/set")"
LD_LIBRARY_PATH=$G "$G/abi_client" "$M/tiny.pt" "$TMP/a.png" set >"$TMP/set2" 2>&1
[ "$(grep -c ": accepted" "$TMP/set2")" -eq 9 ] &&
    ok "each new field set: accepted by the grown library" ||
    { fail "new fields set on the grown library:"; sed 's/^/    /' "$TMP/set2"; }
finish
