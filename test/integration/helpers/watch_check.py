#!/usr/bin/env python3
"""Drives imgclass-watch for the integration tests (test/integration/watch*.sh).

  watch_check.py SCENARIO BUILD MODELS TMP

SCENARIO is one of:
  once      --once over a fixture tree: which files are taken, error records,
            partition paths, top-1 against `imgclass classify`, a second run
            takes nothing, --format text/tsv, --gzip (read by zcat),
            --partition mtime, rolling by record count
  arrivals  files arriving while it runs: renames into place, a slowly
            written file (read whole), new and moved-in folders, a rewritten
            file (a new input), ignored names; parts rolled by time; a clean
            stop leaves no in-progress file
  poll      the same with --poll: polling walks instead of inotify
  windows   a batch cut when full (and not by a long window), and one cut by
            its window (not earlier); SIGHUP rolls the open part
  retry     an output that cannot be written: a clear error, retries, the
            records written once it can be; a stop while blocked exits
            non-zero and the next run writes the records (nothing lost)
  crash     600 images arriving over 20 s, SIGKILL at 10 random moments with
            restarts; afterwards every input exactly once in finalized parts
            with the top-1 of `imgclass classify`, no in-progress file left
  metrics   --metrics-listen 127.0.0.1:0: the exposition parses (HELP and
            TYPE before every family, "name{labels} value" samples, counters
            _total, cumulative histogram buckets); images held back by their
            window raise the backlog and its age while nothing is classified,
            the full batch classifies them and the corrupt one fails, SIGHUP
            rolls the part (parts rolled 1, backlog 0); the STATUS= sentence
            says the same; bad and busy addresses are errors
Prints "ok: ..." per check; exits 1 on the first failure.
"""
import gzip
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
from PIL import Image

from sanitizer_report import report as sanitizer_report

PP = ["--size", "8x8", "--crop", "none"]
PART_RE = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})/hour=(\d{2})/part-[^/]+\.(jsonl|txt|tsv)(\.gz)?$")
SANITIZED = os.environ.get("SANITIZED", "0") == "1"
# Starting the program (libtorch) is slow on a loaded machine, more so
# under ASan.
START_TIMEOUT = 240 if SANITIZED else 120


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def ok(msg):
    print("ok:", msg)
    sys.stdout.flush()


def no_sanitizer_report(what, stderr):
    """Fails on a sanitizer's report in a program's stderr, whatever its
    exit status (sanitizer_report.py says why)."""
    rep = sanitizer_report(stderr)
    if rep:
        fail("%s: a sanitizer report in stderr:\n%s" % (what, rep))


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    fail("timed out after %ds waiting for %s" % (timeout, what))


# ---------------------------------------------------------------- images

def image_bytes(seed, fmt="PNG", shape=(12, 10, 3)):
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, shape, dtype=np.uint8)
    import io
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


def put(path, data, how="rename", mtime=None):
    """Writes a file the way a careful writer does: into a .tmp name then
    renamed into place ("rename"), or directly ("write")."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if how == "rename":
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
        os.rename(tmp, path)
    else:
        with open(path, "wb") as f:
            f.write(data)


# ---------------------------------------------------------------- the program

class Watcher:
    def __init__(self, build, models, inp, out, *extra, preexec=None, env=None):
        self.errpath = out.rstrip("/") + ".stderr.%d" % time.monotonic_ns()
        self.err = open(self.errpath, "wb")
        cmd = [os.path.join(build, "imgclass-watch"), "--model",
               os.path.join(models, "tiny.pt")] + PP + ["--input", inp, "--output", out] + \
            list(extra)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err,
                                     preexec_fn=preexec, env=env)

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_started(self):
        def started():
            if self.proc.poll() is not None:
                fail("imgclass-watch exited early (%d): %s" % (self.proc.returncode,
                                                                self.stderr()[-2000:]))
            return re.search(r"imgclass-watch: (watching|polling|classifying) ", self.stderr())
        wait_for(started, START_TIMEOUT, "imgclass-watch to start")
        return self

    def wait(self, timeout=START_TIMEOUT):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("imgclass-watch did not exit within %ds: %s" % (timeout, self.stderr()[-2000:]))
        no_sanitizer_report("imgclass-watch (exit %d)" % rc, self.stderr())
        return rc

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        return self.wait()

    def kill9(self):
        self.proc.kill()
        self.proc.wait()


def run_once(build, models, inp, out, *extra):
    w = Watcher(build, models, inp, out, "--once", *extra)
    rc = w.wait()
    return rc, w.stderr()


# ---------------------------------------------------------------- the output

def part_files(out):
    found = []
    for dirpath, dirnames, filenames in os.walk(out):
        dirnames[:] = [d for d in dirnames if not d.startswith("_")]
        for n in filenames:
            if n.startswith("part-"):
                found.append(os.path.relpath(os.path.join(dirpath, n), out))
    return sorted(found)


def inprogress_files(out):
    return sorted(os.path.join(d, n) for d, _, names in os.walk(out) for n in names
                  if n.endswith(".inprogress"))


def read_part(out, rel):
    path = os.path.join(out, rel)
    opener = gzip.open if rel.endswith(".gz") else open
    with opener(path, "rb") as f:
        return f.read().decode("utf-8")


def records(out):
    """(part, record) for every JSON record in finalized parts."""
    recs = []
    for rel in part_files(out):
        for line in read_part(out, rel).splitlines():
            recs.append((rel, json.loads(line)))
    return recs


def check_partition(rel, rec):
    m = PART_RE.match(rel)
    if not m:
        fail("part path %s is not dt=YYYY-MM-DD/hour=HH/part-*" % rel)
    t = rec["time"]
    if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", t):
        fail("bad time %r" % t)
    if t[:10] != m.group(1) or t[11:13] != m.group(2):
        fail("record time %s is not in its partition %s" % (t, rel))


def classify(build, models, paths):
    """path -> (top-1 index, probability) from `imgclass classify`."""
    res = {}
    for i in range(0, len(paths), 200):
        p = subprocess.run([os.path.join(build, "imgclass"), "classify", "--model",
                            os.path.join(models, "tiny.pt")] + PP + ["--json"] +
                           paths[i:i + 200], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        no_sanitizer_report("imgclass classify (the reference)", p.stderr)
        for line in p.stdout.decode().splitlines():
            r = json.loads(line)
            res[r["path"]] = (r["top"][0]["index"], r["top"][0]["probability"]) \
                if "top" in r else None
    return res


def check_against_classify(build, models, recs):
    good = [r for _, r in recs if "top" in r]
    want = classify(build, models, sorted({r["path"] for r in good}))
    for r in good:
        w = want.get(r["path"])
        if w is None:
            fail("imgclass classify has no result for %s" % r["path"])
        if r["top"][0]["index"] != w[0] or abs(r["top"][0]["probability"] - w[1]) > 1e-5:
            fail("%s: watch says %s, classify says %s" % (r["path"], r["top"][0], w))
    ok("top-1 of %d records equals imgclass classify" % len(good))


def count_paths(recs):
    counts = {}
    for _, r in recs:
        counts[r["path"]] = counts.get(r["path"], 0) + 1
    return counts


# ---------------------------------------------------------------- scenarios

def scenario_once(build, models, tmp):
    inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
    # Usage errors: exit 1 with a message naming the problem.
    for extra, words in ((["--input", tmp + "/missing"], "missing"),
                         (["--format", "xml"], "--format"),
                         (["--roll-records", "-3"], "--roll-records")):
        args = ["--model", os.path.join(models, "tiny.pt"), "--input", tmp, "--output",
                tmp + "/o"] + extra
        p = subprocess.run([os.path.join(build, "imgclass-watch")] + args,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        no_sanitizer_report("imgclass-watch %s" % " ".join(extra), p.stderr)
        if p.returncode != 1 or words.encode() not in p.stderr:
            fail("%s: exit %d, %s" % (extra, p.returncode, p.stderr))
    ok("a missing input folder and bad option values: exit 1 with a message")
    put(inp + "/a.png", image_bytes(1))
    put(inp + "/b.jpg", image_bytes(2, "JPEG", (20, 17, 3)))
    put(inp + "/sub/c.png", image_bytes(3))
    put(inp + "/noext", image_bytes(4))
    put(inp + "/corrupt.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "write")
    put(inp + "/.hidden.png", image_bytes(5), "write")
    put(inp + "/.hiddendir/x.png", image_bytes(6), "write")
    put(inp + "/half.png.tmp", image_bytes(7), "write")
    put(inp + "/notes.txt", b"not an image\n", "write")
    rc, err = run_once(build, models, inp, out)
    if rc != 2:
        fail("--once with a corrupt input: exit %d, expected 2; %s" % (rc, err))
    recs = records(out)
    want = {inp + p for p in ["/a.png", "/b.jpg", "/sub/c.png", "/noext", "/corrupt.jpg"]}
    if count_paths(recs) != {p: 1 for p in want}:
        fail("--once took %s, expected each of %s once" % (count_paths(recs), sorted(want)))
    ok("--once takes every image once; dotfiles, *.tmp and non-images skipped")
    for rel, r in recs:
        check_partition(rel, r)
    ok("parts at dt=YYYY-MM-DD/hour=HH/part-*.jsonl matching the record times")
    bad = [r for _, r in recs if r["path"].endswith("corrupt.jpg")][0]
    if "error" not in bad or "corrupt.jpg" not in bad["error"] or "top" in bad:
        fail("error record: %s" % bad)
    ok("a corrupt file gives an error record naming it: %s" % bad["error"])
    check_against_classify(build, models, recs)
    if inprogress_files(out):
        fail("in-progress files after --once: %s" % inprogress_files(out))
    if not re.search(r"rolled .*part-.*: 5 records, 1 errors, [0-9.]+ images/s", err):
        fail("no log line for the rolled part: %s" % err)
    ok("one log line per rolled part")

    before = part_files(out)
    rc, err = run_once(build, models, inp, out)
    if rc != 0 or part_files(out) != before:
        fail("second --once: exit %d, parts %s -> %s" % (rc, before, part_files(out)))
    ok("a second --once takes nothing (exit 0)")

    # Formats, gzip, mtime partitions, rolling by count.
    old = inp + "/sub/c.png"
    os.utime(old, (981173106, 981173106))  # 2001-02-03T04:05:06Z
    out2 = os.path.join(tmp, "out_tsv")
    rc, err = run_once(build, models, inp, out2, "--format", "tsv", "--gzip", "--partition",
                       "mtime", "--roll-records", "2")
    parts = part_files(out2)
    if rc != 2 or not parts or not all(p.endswith(".tsv.gz") for p in parts):
        fail("--format tsv --gzip: exit %d, parts %s" % (rc, parts))
    lines = []
    for p in parts:
        z = subprocess.run(["zcat", os.path.join(out2, p)], stdout=subprocess.PIPE)
        if z.returncode != 0:
            fail("zcat %s failed" % p)
        got = z.stdout.decode().splitlines()
        if len(got) > 2:
            fail("--roll-records 2 but %s holds %d records" % (p, len(got)))
        lines += [(p, l) for l in got]
    if len(lines) != 5:
        fail("--gzip parts hold %d lines, expected 5" % len(lines))
    ok("--gzip parts read by zcat; --roll-records 2 cuts parts of at most 2")
    old_line = [(p, l) for p, l in lines if l.split("\t")[1] == old]
    if len(old_line) != 1 or not old_line[0][0].startswith("dt=2001-02-03/hour=04/") or \
            not old_line[0][1].startswith("2001-02-03T04:05:06.000Z\t"):
        fail("--partition mtime: %s" % old_line)
    ok("--partition mtime puts a 2001 file in dt=2001-02-03/hour=04 with its time")
    out3 = os.path.join(tmp, "out_text")
    rc, err = run_once(build, models, inp, out3, "--format", "text")
    text = "".join(read_part(out3, p) for p in part_files(out3))
    if not re.search(re.escape(inp) + r"/a\.png: class \d+: 0\.\d+\n", text) or \
            not re.search(re.escape(inp) + r"/corrupt\.jpg: error: ", text):
        fail("--format text:\n%s" % text)
    ok("--format text writes PATH: CLASS: PROB and PATH: error: MESSAGE")


def scenario_arrivals(build, models, tmp):
    inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
    os.makedirs(inp)
    w = Watcher(build, models, inp, out, "--roll-seconds", "1", "--window-ms", "50",
                "--stats", "1").wait_started()
    put(inp + "/renamed.png", image_bytes(10))
    put(inp + "/direct.png", image_bytes(11), "write")
    # A dotfile renamed into place counts under its final name only.
    put(inp + "/.incoming.png", image_bytes(12), "write")
    os.rename(inp + "/.incoming.png", inp + "/dotted.png")
    put(inp + "/ignored.tmp", image_bytes(13), "write")
    put(inp + "/.ignored.png", image_bytes(14), "write")
    # A slowly written file: five pieces, 0.4 s apart.
    data = image_bytes(15, shape=(30, 25, 3))
    with open(inp + "/slow.png", "wb") as f:
        for i in range(5):
            f.write(data[i * len(data) // 5:(i + 1) * len(data) // 5])
            f.flush()
            time.sleep(0.4)
    # A new folder (written into at once), and a folder moved in whole.
    os.makedirs(inp + "/new/deep")
    put(inp + "/new/deep/n1.png", image_bytes(16), "write")
    put(tmp + "/elsewhere/m1.png", image_bytes(17))
    put(tmp + "/elsewhere/sub/m2.png", image_bytes(18))
    os.rename(tmp + "/elsewhere", inp + "/moved")
    want = {inp + p: 1 for p in ["/renamed.png", "/direct.png", "/dotted.png", "/slow.png",
                                 "/new/deep/n1.png", "/moved/m1.png", "/moved/sub/m2.png"]}
    wait_for(lambda: count_paths(records(out)) == want, 90,
             "the arrivals in finalized parts (rolled by time); have %s" % count_paths(records(out)))
    ok("renamed, written, new-folder and moved-in files arrive, each once, in parts "
       "rolled by time")
    # The same path with new content is a new input.
    first = [r for _, r in records(out) if r["path"] == inp + "/renamed.png"][0]
    put(inp + "/renamed.png", image_bytes(19, shape=(16, 9, 3)))
    want[inp + "/renamed.png"] = 2
    wait_for(lambda: count_paths(records(out)) == want, 90, "the rewritten file's new record")
    second = [r for _, r in records(out) if r["path"] == inp + "/renamed.png"][1]
    if second["top"] == first["top"]:
        fail("the rewritten file got the old result: %s" % second)
    ok("a file rewritten under the same path is a new input")
    rc = w.stop()
    recs = records(out)
    if rc != 0:
        fail("SIGTERM: exit %d; %s" % (rc, w.stderr()))
    if count_paths(recs) != want:
        fail("after SIGTERM: %s, expected %s" % (count_paths(recs), want))
    slow = [r for _, r in recs if r["path"].endswith("slow.png")][0]
    if "top" not in slow:
        fail("the slowly written file was read before it was complete: %s" % slow)
    ok("the slowly written file is read whole, once")
    if inprogress_files(out):
        fail("in-progress files after SIGTERM: %s" % inprogress_files(out))
    ok("SIGTERM: exit 0, no in-progress file left")
    stats = [l for l in w.stderr().splitlines() if "imgclass-watch: stats: " in l]
    if not stats or not re.search(r"images/s, taken \d+, failed 0, queue depth \d+/\d+", stats[-1]):
        fail("--stats 1 printed no stats line: %s" % stats)
    ok("--stats: %s" % stats[-1])
    # (the first record of renamed.png is of content that is gone)
    check_against_classify(build, models, [(p, r) for p, r in recs if r != first])


def scenario_poll(build, models, tmp):
    inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
    os.makedirs(inp)
    w = Watcher(build, models, inp, out, "--poll", "--poll-ms", "200", "--roll-seconds", "1",
                "--window-ms", "20").wait_started()
    if "imgclass-watch: polling " not in w.stderr():
        fail("--poll does not say it polls: %s" % w.stderr())
    put(inp + "/p1.png", image_bytes(400))
    put(inp + "/sub/p2.png", image_bytes(401), "write")
    # Written slowly, with pauses longer than the polling interval: the
    # writer still has it open, so it is not taken before it is complete.
    data = image_bytes(402, shape=(30, 25, 3))
    with open(inp + "/slow.png", "wb") as f:
        for i in range(4):
            f.write(data[i * len(data) // 4:(i + 1) * len(data) // 4])
            f.flush()
            time.sleep(0.5)
    want = {inp + p: 1 for p in ["/p1.png", "/sub/p2.png", "/slow.png"]}
    wait_for(lambda: count_paths(records(out)) == want, 90, "the polled arrivals")
    rc = w.stop()
    recs = records(out)
    if rc != 0 or count_paths(recs) != want or any("top" not in r for _, r in recs):
        fail("polling: exit %d, %s" % (rc, recs))
    ok("--poll: new files, a new folder and a slowly written file (read whole), each once")


def scenario_windows(build, models, tmp):
    inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
    os.makedirs(inp)
    # Cut by count: a 10-minute window never cuts here.
    w = Watcher(build, models, inp, out, "--batch", "4", "--window-ms", "600000",
                "--roll-records", "1").wait_started()
    for i in range(4):
        put(inp + "/c%d.png" % i, image_bytes(100 + i))
    wait_for(lambda: len(records(out)) == 4, 90, "a full batch of 4")
    ok("4 images with --batch 4: one full batch, written at once")
    for i in range(4, 6):
        put(inp + "/c%d.png" % i, image_bytes(100 + i))
    time.sleep(3)
    if len(records(out)) != 4:
        fail("a half-full batch was cut before its 10-minute window: %d records"
             % len(records(out)))
    ok("a half-full batch waits for its window")
    rc = w.stop()
    if rc != 0 or len(records(out)) != 6:
        fail("SIGTERM did not finish the window: exit %d, %d records" % (rc, len(records(out))))
    ok("SIGTERM finishes the open window and exits 0")

    # Cut by time: a large batch, a 2.5 s window.
    out2 = os.path.join(tmp, "out2")
    inp2 = os.path.join(tmp, "in2")
    os.makedirs(inp2)
    w = Watcher(build, models, inp2, out2, "--batch", "64", "--window-ms", "2500",
                "--roll-records", "1", "--roll-seconds", "0").wait_started()
    t0 = time.monotonic()
    for i in range(2):
        put(inp2 + "/t%d.png" % i, image_bytes(200 + i))
    time.sleep(1.0)
    if records(out2):
        fail("the window was cut before --window-ms")
    wait_for(lambda: len(records(out2)) == 2, 90, "the window to be cut by time")
    ok("2 images with --batch 64 --window-ms 2500: cut by time after %.1f s"
       % (time.monotonic() - t0))
    # SIGHUP rolls an open part: a part that would never roll by itself.
    w.stop()
    out3 = os.path.join(tmp, "out3")
    w = Watcher(build, models, inp2, out3, "--roll-seconds", "0", "--roll-records", "0",
                "--window-ms", "10").wait_started()
    wait_for(lambda: inprogress_files(out3), 60, "an in-progress part")
    time.sleep(0.5)
    if part_files(out3):
        fail("a part was finalized without a reason: %s" % part_files(out3))
    ok("records wait in an in-progress dotfile part (%s)" % os.path.basename(
        inprogress_files(out3)[0]))
    w.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: len(records(out3)) == 2 and not inprogress_files(out3), 60,
             "SIGHUP to roll the part")
    ok("SIGHUP rolls the open part")
    if w.stop() != 0:
        fail("SIGTERM after SIGHUP")


def scenario_retry(build, models, tmp):
    inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
    os.makedirs(out)
    os.makedirs(inp)
    # Records go to their file's mtime partition, so the test knows the
    # folder to block: a plain file where dt=2001-02-03 must be created.
    blocker = os.path.join(out, "dt=2001-02-03")
    with open(blocker, "w") as f:
        f.write("in the way\n")
    w = Watcher(build, models, inp, out, "--partition", "mtime", "--roll-seconds", "1",
                "--window-ms", "10").wait_started()
    for i in range(3):
        put(inp + "/r%d.png" % i, image_bytes(300 + i), mtime=981173106 + i)
    wait_for(lambda: "cannot write" in w.stderr(), 60, "an error about the unwritable output")
    line = [l for l in w.stderr().splitlines() if "cannot write" in l][0]
    if "dt=2001-02-03" not in line or "records are kept" not in line:
        fail("unclear error: %s" % line)
    ok("unwritable output: %s" % line)
    time.sleep(1.5)
    if w.proc.poll() is not None or records(out):
        fail("it should keep retrying without writing")
    os.unlink(blocker)
    wait_for(lambda: len(records(out)) == 3, 60, "the retried roll")
    ok("once the output can be written, the retry writes all 3 records")
    # Blocked again, then stopped: non-zero exit, nothing lost.
    blocker = os.path.join(out, "dt=2001-02-04")
    with open(blocker, "w") as f:
        f.write("in the way\n")
    for i in range(3, 5):
        put(inp + "/r%d.png" % i, image_bytes(300 + i), mtime=981259506 + i)
    wait_for(lambda: re.search(r"cannot write .*dt=2001-02-04.*: the part's [1-9]",
                               w.stderr().replace("; the part", ": the part")), 60,
             "the error about the second blocked partition")
    rc = w.stop()
    if rc == 0 or "not committed" not in w.stderr():
        fail("stopped while blocked: exit %d; %s" % (rc, w.stderr()[-500:]))
    ok("stopped while the output is unwritable: exit %d, says what is not committed" % rc)
    os.unlink(blocker)
    rc, err = run_once(build, models, inp, out)
    counts = count_paths(records(out))
    if rc != 0 or counts != {inp + "/r%d.png" % i: 1 for i in range(5)}:
        fail("after the blocked stop: exit %d, %s" % (rc, counts))
    ok("the next run writes the 2 uncommitted records; all 5 exactly once")


def scenario_crash(build, models, tmp):
    n_images = 200 if SANITIZED else 600
    n_kills = 4 if SANITIZED else 10
    rng = random.Random(int(os.environ.get("WATCH_CRASH_SEED", "0")) or None)
    seed = rng.randrange(1 << 30)
    rng = random.Random(seed)
    print("crash test: %d images, %d kills, seed %d (WATCH_CRASH_SEED)" % (n_images, n_kills,
                                                                             seed))
    inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
    stage = os.path.join(tmp, "stage")
    os.makedirs(inp)
    os.makedirs(stage)
    names = []
    for i in range(n_images):
        rel = "%s/img%04d.%s" % ("abc"[i % 3], i, "jpg" if i % 5 == 0 else "png")
        names.append(rel)
        data = image_bytes(1000 + i, "JPEG" if i % 5 == 0 else "PNG", (14, 11, 3))
        with open(os.path.join(stage, "%d" % i), "wb") as f:
            f.write(data)
    # Arrivals spread over 20 s, kills at random moments within them.
    # Under sanitizers (slower, and the point is leaks and memory errors
    # over a long run with restarts): 200 images over 12 s, 4 kills.
    arrival_s = 12.0 if SANITIZED else 20.0
    kill_at = sorted(rng.uniform(1.0, arrival_s) for _ in range(n_kills))
    extra = ["--roll-records", "20", "--roll-seconds", "1", "--batch", "8", "--window-ms", "30",
             "--compact-bytes", "8192"]
    w = Watcher(build, models, inp, out, *extra).wait_started()
    t0 = time.monotonic()
    kills = 0
    for i, rel in enumerate(names):
        due = t0 + arrival_s * i / n_images
        while True:
            now = time.monotonic()
            if kills < n_kills and now - t0 >= kill_at[kills]:
                w.kill9()
                kills += 1
                w = Watcher(build, models, inp, out, *extra)
                continue
            if now >= due:
                break
            time.sleep(min(0.02, due - now))
        dst = os.path.join(inp, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if i % 4 == 0:  # written in place, closed
            with open(os.path.join(stage, "%d" % i), "rb") as f:
                put(dst, f.read(), "write")
        else:  # renamed into place
            os.rename(os.path.join(stage, "%d" % i), dst)
    while kills < n_kills:  # kills left after the last arrival
        time.sleep(0.5)
        w.kill9()
        kills += 1
        w = Watcher(build, models, inp, out, *extra)
    ok("%d arrivals over %.0f s, %d SIGKILLs with restarts" % (n_images, time.monotonic() - t0,
                                                              kills))
    w.wait_started()
    wait_for(lambda: len(records(out)) >= n_images, 180 if not SANITIZED else 400,
             "all inputs in finalized parts")
    rc = w.stop()
    if rc != 0:
        fail("final SIGTERM: exit %d; %s" % (rc, w.stderr()[-1000:]))
    recs = records(out)
    counts = count_paths(recs)
    want = {os.path.join(inp, rel): 1 for rel in names}
    if counts != want:
        missing = sorted(set(want) - set(counts))
        dup = sorted(p for p, c in counts.items() if c > 1)
        extra_p = sorted(set(counts) - set(want))
        fail("after the crashes: %d missing %s, %d duplicated %s, %d unexpected %s"
             % (len(missing), missing[:5], len(dup), dup[:5], len(extra_p), extra_p[:5]))
    ok("every one of %d inputs exactly once in %d finalized parts" % (n_images,
                                                                     len(part_files(out))))
    for rel, r in recs:
        check_partition(rel, r)
    if inprogress_files(out):
        fail("in-progress files after the clean stop: %s" % inprogress_files(out))
    ok("no in-progress file after the clean stop")
    journal = os.path.join(out, "_imgclass_watch_state", "journal")
    ok("journal %d bytes after compaction" % os.path.getsize(journal))
    check_against_classify(build, models, recs)


# ---------------------------------------------------------------- metrics

METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE_RE = re.compile(r'^(%s)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$'
                       % METRIC_NAME)
HEADER_RE = re.compile(r"^# (HELP|TYPE) (%s) (.+)$" % METRIC_NAME)


def http_get(port, path="/metrics", method="GET"):
    """(status, content type, body) of one request to 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read().decode()
    finally:
        conn.close()


def parse_exposition(text):
    """{"name{labels}": value} of a Prometheus text exposition (format
    0.0.4); fails on a line that is neither a HELP, a TYPE nor a sample
    line, on a sample whose family has no HELP and TYPE before it, on a
    counter not named *_total, on a repeated sample, and on histogram
    buckets that are not cumulative or disagree with _count."""
    helps, types, values = set(), {}, {}
    for line in text.splitlines():
        m = HEADER_RE.match(line)
        if m:
            kind, name, rest = m.groups()
            if kind == "HELP":
                helps.add(name)
            elif rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
                fail("TYPE %s %s: not a metric type" % (name, rest))
            elif rest == "counter" and not name.endswith("_total"):
                fail("counter %s does not end in _total" % name)
            else:
                types[name] = rest
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            fail("not a sample line: %r" % line)
        name, labels, value = m.groups()
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[:-len(suffix)]
            if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
                family = base
        if family not in types or family not in helps:
            fail("sample %s has no HELP and TYPE line before it" % line)
        key = name + (labels or "")
        if key in values:
            fail("sample %s twice" % key)
        try:
            values[key] = float(value)
        except ValueError:
            fail("sample %s: %r is not a number" % (key, value))
    for name, kind in types.items():
        if kind != "histogram":
            continue
        buckets = [(k, v) for k, v in values.items() if k.startswith(name + "_bucket{")]
        if not buckets or not buckets[-1][0].endswith('le="+Inf"}'):
            fail("histogram %s: no +Inf bucket last" % name)
        counts = [v for _, v in buckets]
        if counts != sorted(counts) or counts[-1] != values.get(name + "_count"):
            fail("histogram %s: buckets %s not cumulative up to _count %s"
                 % (name, counts, values.get(name + "_count")))
    return values


class Metrics:
    """The /metrics of a running watcher on the loopback port it printed."""

    def __init__(self, watcher):
        m = re.search(r"imgclass-watch: metrics on http://127\.0\.0\.1:(\d+)/metrics\n",
                      watcher.stderr())
        if not m:
            fail("no 'metrics on http://127.0.0.1:PORT/metrics' line: %s" % watcher.stderr())
        self.port = int(m.group(1))

    def get(self):
        status, ctype, body = http_get(self.port)
        if status != 200 or not ctype.startswith("text/plain; version=0.0.4"):
            fail("GET /metrics: %d %s" % (status, ctype))
        return parse_exposition(body)

    def wait(self, name, pred, what, timeout=90):
        """The figures once pred(figures[name]) holds (bounded wait)."""
        end = time.monotonic() + timeout
        while True:
            v = self.get()
            if name not in v:
                fail("/metrics has no %s" % name)
            if pred(v[name]):
                return v
            if time.monotonic() > end:
                fail("timed out after %ds waiting for %s (%s); it is %s"
                     % (timeout, name, what, v[name]))
            time.sleep(0.1)


def expect(v, want, when):
    got = {k: v.get(k) for k in want}
    if got != want:
        fail("%s: %s, expected %s" % (when, got, want))


def scenario_metrics(build, models, tmp):
    from notify_check import Listener
    inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
    os.makedirs(inp)
    watch = [os.path.join(build, "imgclass-watch"), "--model", os.path.join(models, "tiny.pt"),
             "--input", inp, "--output", tmp + "/o"]
    for bad in ("localhost:9108", "127.0.0.1", "127.0.0.1:65536", "[::1]9108"):
        p = subprocess.run(watch + ["--metrics-listen", bad], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        if p.returncode != 1 or b"--metrics-listen" not in p.stderr:
            fail("--metrics-listen %s: exit %d, %s" % (bad, p.returncode, p.stderr))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        p = subprocess.run(watch + PP + ["--metrics-listen",
                                         "127.0.0.1:%d" % busy.getsockname()[1]],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        fail("--metrics-listen on a busy port: still running after %ds; %s"
             % (START_TIMEOUT, e.stderr))
    busy.close()
    if p.returncode != 1 or b"cannot listen" not in p.stderr:
        fail("--metrics-listen on a busy port: exit %d, %s" % (p.returncode, p.stderr))
    ok("--metrics-listen: a name, no port, a bad port or a busy port is an error (exit 1)")

    # n good images and a corrupt one make one full batch of n + 1; the
    # 10-minute window holds the first n files back, so the backlog is
    # seen while nothing is classified. Parts roll only on SIGHUP.
    n = 4
    listener = Listener(tmp, abstract=False)
    w = Watcher(build, models, inp, out, "--metrics-listen", "127.0.0.1:0", "--batch",
                str(n + 1), "--window-ms", "600000", "--roll-seconds", "0", "--roll-records",
                "0", env=dict(os.environ, NOTIFY_SOCKET=listener.env_value)).wait_started()
    m = Metrics(w)
    v = m.get()
    zero = {"imgclass_images_classified_total": 0, "imgclass_images_failed_total": 0,
            "imgclass_parts_rolled_total": 0, "imgclass_records_written_total": 0,
            "imgclass_backlog_files": 0, "imgclass_backlog_oldest_seconds": 0}
    expect(v, zero, "at start")
    ok("GET /metrics parses (%d samples, HELP and TYPE for each family); all zero at start"
       % len(v))
    for method, path, code in (("GET", "/other", 404), ("POST", "/metrics", 405)):
        status, _, _ = http_get(m.port, path, method)
        if status != code:
            fail("%s %s: %d, expected %d" % (method, path, status, code))
    ok("other paths 404, other methods 405")
    # A scraper's connection stays open between scrapes (mhd_first_call.h).
    conn = http.client.HTTPConnection("127.0.0.1", m.port, timeout=30)
    try:
        for i in range(2):
            conn.request("GET", "/metrics")
            r = conn.getresponse()
            r.read()
            if r.status != 200 or r.will_close:
                fail("GET /metrics %d: status %d, connection %s" %
                     (i + 1, r.status, r.getheader("Connection")))
    finally:
        conn.close()
    ok("two scrapes on one kept-alive connection")

    for i in range(n - 1):
        put(inp + "/m%d.png" % i, image_bytes(500 + i))
    put(inp + "/corrupt.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    v = m.wait("imgclass_backlog_files", lambda x: x == n, "the %d files found" % n)
    expect(v, {"imgclass_images_classified_total": 0, "imgclass_parts_rolled_total": 0},
           "while the window holds them")
    first_age = v["imgclass_backlog_oldest_seconds"]
    if not first_age > 0:
        fail("backlog %d but its oldest is %s s old" % (n, first_age))
    m.wait("imgclass_backlog_oldest_seconds", lambda x: x > first_age,
           "the age of the oldest to grow")
    ok("backlog %d while the window holds the files, nothing classified; its oldest ages "
       "(%.2f s and growing)" % (n, first_age))
    line = listener.wait_match(r"STATUS=0 images classified, 0 failed, backlog %d "
                               r"\(oldest \d+\.\d s\), 0 parts" % n, 30)
    if not line:
        fail("no STATUS= line with the backlog: %s" % listener.messages)
    ok("STATUS= says it: %s" % line)

    put(inp + "/m%d.png" % (n - 1), image_bytes(500 + n - 1))
    v = m.wait("imgclass_images_classified_total", lambda x: x >= n, "the full batch")
    expect(v, {"imgclass_images_classified_total": n, "imgclass_images_failed_total": 1,
               "imgclass_backlog_files": n + 1, "imgclass_parts_rolled_total": 0,
               "imgclass_records_written_total": 0, "imgclass_batch_size_max": n,
               'imgclass_batches_total{cut="full"}': 1,
               "imgclass_latency_microseconds_count": n + 1},
           "after the full batch")
    ok("the full batch: %d classified, 1 failed; backlog still %d (records in the open part)"
       % (n, n + 1))

    w.proc.send_signal(signal.SIGHUP)
    v = m.wait("imgclass_parts_rolled_total", lambda x: x >= 1, "SIGHUP to roll the part")
    expect(v, {"imgclass_parts_rolled_total": 1, "imgclass_records_written_total": n + 1,
               "imgclass_backlog_files": 0, "imgclass_backlog_oldest_seconds": 0},
           "after SIGHUP")
    if len(records(out)) != n + 1:
        fail("%d records in finalized parts, expected %d" % (len(records(out)), n + 1))
    ok("SIGHUP: 1 part rolled with %d records, backlog 0 (oldest 0)" % (n + 1))
    line = listener.wait_match(r"STATUS=%d images classified, 1 failed, backlog 0, 1 parts" % n,
                               30)
    if not line:
        fail("no STATUS= line with the final figures: %s" % listener.messages)
    ok("STATUS= says it: %s" % line)

    rc = w.stop()
    if rc != 0:
        fail("SIGTERM with the metrics server running: exit %d; %s" % (rc, w.stderr()[-1000:]))
    try:
        http_get(m.port)
        fail("the metrics port still answers after the watcher exited")
    except OSError:
        pass
    ok("SIGTERM: exit 0, the metrics port closed")


def main():
    scenario, build, models, tmp = sys.argv[1:5]
    globals()["scenario_" + scenario](build, models, os.path.abspath(tmp))


if __name__ == "__main__":
    main()
