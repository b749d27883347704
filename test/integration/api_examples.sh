#!/bin/sh
# The small API examples (examples/api): each built program runs on
# generated images with the tiny test model, and what it prints is checked
# against an independent source: the CLI on the same files, or the CLI on
# the same frame written as a PNG by Pillow. The looping ones stop cleanly
# on SIGTERM and account for every image they accepted.
. "$(dirname "$0")/helpers/common.sh"

X=$BUILD/examples/api
for p in classify_files camera_frames pipeline_threads; do
    [ -x "$X/$p" ] || { echo "FAIL: $X/$p not built (make BUILD=$BUILD api-examples)"; exit 1; }
done
L=$M/labels_synset.txt

# Three images and a corrupt one; frame 0 of camera_frames as a PNG (its
# synthetic BGR formula, written as RGB).
$PYTHON - "$TMP" <<'PY' || { echo "FAIL: fixtures"; exit 1; }
import sys, numpy as np
from PIL import Image
d = sys.argv[1]
y, x = np.mgrid[0:300, 0:400]
for i, ext in enumerate(["png", "jpg", "bmp"]):
    img = np.stack([(x * (i + 1)) % 256, (y * 3 + i * 50) % 256, (x ^ y) % 256], -1)
    Image.fromarray(img.astype(np.uint8)).save(f"{d}/img{i}.{ext}")
open(f"{d}/bad.jpg", "wb").write(b"\xff\xd8\xff\xe0 not really a JPEG")
y, x = np.mgrid[0:240, 0:320]
rgb = np.stack([(x ^ y) & 255, y & 255, x & 255], -1).astype(np.uint8)
Image.fromarray(rgb).save(f"{d}/frame0.png")
PY

# --- classify_files: the same top-1 as `imgclass classify` (TSV) ---------
IMGS="$TMP/img0.png $TMP/img1.jpg $TMP/img2.bmp"
# shellcheck disable=SC2086
expect_rc 1 "classify_files with one corrupt file" "$X/classify_files" "$M/tiny.pt" "$L" $IMGS "$TMP/bad.jpg"
cp "$TMP/out" "$TMP/files.out"
# shellcheck disable=SC2086
"$IC" classify --model "$M/tiny.pt" --labels "$L" --tsv $IMGS >"$TMP/cli.tsv" 2>/dev/null ||
    fail "CLI reference run"
awk -F'\t' '{printf "%s: %s (%.4f)\n", $1, $3, $4}' "$TMP/cli.tsv" >"$TMP/want"
head -3 "$TMP/files.out" | cmp -s - "$TMP/want" && ok "classify_files top-1 equals the CLI's" ||
    fail "classify_files: $(head -3 "$TMP/files.out") / CLI: $(cat "$TMP/want")"
grep -q "^$TMP/bad.jpg: error: $TMP/bad.jpg: corrupt data" "$TMP/files.out" &&
    ok "classify_files names the corrupt file and why" || fail "bad.jpg line: $(tail -1 "$TMP/files.out")"

# --- camera_frames: frame 0 equals the CLI on the same picture ---------
expect_rc 0 "camera_frames, 4 frames" "$X/camera_frames" "$M/tiny.pt" 4
[ "$(grep -c '^frame [0-3]: ' "$TMP/out")" -eq 4 ] && ok "4 frame lines" || fail "frame lines: $(cat "$TMP/out")"
"$IC" classify --model "$M/tiny.pt" --json -k 3 "$TMP/frame0.png" >"$TMP/frame0.json" 2>/dev/null
want=$($PYTHON -c 'import json, sys
r = json.load(open(sys.argv[1]))
print("frame 0:" + "".join(" %d - (%.4f)" % (c["index"], c["probability"]) for c in r["top"]))' "$TMP/frame0.json")
[ "$(head -1 "$TMP/out")" = "$want" ] && ok "frame 0 (BGR, row stride) equals the CLI on its PNG" ||
    fail "frame 0: '$(head -1 "$TMP/out")', CLI on the PNG: '$want'"

# --- pipeline_threads: every image once, in order, results as the CLI's --
# shellcheck disable=SC2086
expect_rc 0 "pipeline_threads, 2 rounds of 4 files" "$X/pipeline_threads" "$M/tiny.pt" 2 $IMGS "$TMP/bad.jpg"
grep -q "8 submitted, 6 classified, 2 failed" "$TMP/err" && ok "8 submitted, 6 classified, 2 failed" ||
    fail "pipeline_threads summary: $(cat "$TMP/err")"
[ "$(cut -d' ' -f1 "$TMP/out" | tr '\n' ' ')" = "0 1 2 3 4 5 6 7 " ] &&
    ok "each sequence number once, in order" || fail "sequence: $(cut -d' ' -f1 "$TMP/out" | tr '\n' ' ')"
awk -F'\t' '{printf "%s: - (%.4f)\n", $1, $4}' "$TMP/cli.tsv" | sort >"$TMP/want_p"
sed 's/^[0-9]* //; s/, batch of [0-9]*$//' "$TMP/out" | grep -v ': error: ' | sort -u >"$TMP/got_p"
cmp -s "$TMP/got_p" "$TMP/want_p" && ok "pipeline results equal the CLI's" ||
    fail "pipeline results: $(cat "$TMP/got_p") / CLI: $(cat "$TMP/want_p")"

# --- SIGTERM: the loops stop, everything accepted is delivered -----------
wait_lines() { # file count: up to 60 s for that many lines
    i=0
    while [ "$(wc -l <"$1")" -lt "$2" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
}
for prog in camera_frames pipeline_threads; do
    : >"$TMP/sig.out"
    if [ $prog = camera_frames ]; then
        "$X/$prog" "$M/tiny.pt" 0 >"$TMP/sig.out" 2>"$TMP/sig.err" &
    else
        # shellcheck disable=SC2086
        "$X/$prog" "$M/tiny.pt" 0 $IMGS >"$TMP/sig.out" 2>"$TMP/sig.err" &
    fi
    pid=$!
    wait_lines "$TMP/sig.out" 3
    kill -TERM $pid
    # bounded: a program that ignores the signal is killed after 30 s
    i=0
    while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    kill -0 $pid 2>/dev/null && { kill -KILL $pid; fail "$prog ignored SIGTERM for 30 s"; }
    wait $pid
    rc=$?
    [ $rc -eq 0 ] && grep -q "stopped by a signal" "$TMP/sig.err" &&
        ok "$prog stops on SIGTERM (exit 0)" || fail "$prog on SIGTERM: exit $rc, $(cat "$TMP/sig.err")"
done
finish
