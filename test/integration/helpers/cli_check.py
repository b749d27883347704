#!/usr/bin/env python3
"""Helpers for the imgclass CLI integration tests (test/integration/*.sh).

  cli_check.py make-images DIR
      Writes the fixture tree: photos (PNG, JPEG, grayscale, RGBA), broken
      files, hidden files, links, and names that need escaping.
  cli_check.py check FORMAT K MODEL LABELS OUTPUT INPUT...
      Computes with Pillow + torch what `imgclass classify --size 8x8 --crop
      none` must print for INPUT... (folder rules re-implemented here) and
      compares it with the captured OUTPUT: order, paths (unescaped bytes),
      indices, labels, probabilities, error records. LABELS may be "-".
  cli_check.py check-many MODEL FORMAT:K:LABELS:OUTPUT... -- INPUT...
      The same for several captured outputs at once (one torch start-up).
  cli_check.py stream IMGCLASS MODEL IMAGE
      Streams paths into `imgclass classify -` through a pipe kept open and
      checks that results arrive before the end of input and that a batch is
      cut by --window-ms (not earlier; "cut: window" in the batch log), or by
      being full.
Exits non-zero and prints what differed on failure.
"""
import json
import os
import select
import subprocess
import sys
import time

import numpy as np
from PIL import Image

from sanitizer_report import report as sanitizer_report

torch = None  # imported only by the commands that need it (slow start-up)

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
EXTS = {b"jpg", b"jpeg", b"jpe", b"jfif", b"png", b"bmp", b"dib", b"gif", b"tga", b"tpic",
        b"pnm", b"ppm", b"pgm", b"pbm", b"psd"}
TOL = 1e-5


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def no_sanitizer_report(what, stderr):
    """Fails on a sanitizer's report in a program's stderr, whatever its
    exit status (sanitizer_report.py says why)."""
    rep = sanitizer_report(stderr)
    if rep:
        fail(f"{what}: a sanitizer report in stderr:\n{rep}")


# ---------------------------------------------------------------- fixtures

def make_images(root):
    root = os.fsencode(root)
    rng = np.random.default_rng(7)

    def photo(path, shape=(23, 31, 3), mode=None, fmt=None):
        arr = rng.integers(0, 256, shape, dtype=np.uint8)
        img = Image.fromarray(arr) if mode is None else Image.fromarray(arr, mode)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            img.save(f, format=fmt or ("JPEG" if path.endswith(b".jpg") else "PNG"))

    good = os.path.join(root, b"good")
    photo(os.path.join(good, b"a.png"))
    photo(os.path.join(good, b"b.jpg"), (40, 33, 3))
    photo(os.path.join(good, b"c_gray.png"), (17, 12))
    photo(os.path.join(good, b"d_rgba.png"), (12, 19, 4), "RGBA")

    mixed = os.path.join(root, b"mixed")
    photo(os.path.join(mixed, b"a.png"))
    photo(os.path.join(mixed, b"sub.png"))  # '.' < '/': sorts before sub/...
    photo(os.path.join(mixed, b"sub", b"c.png"))
    photo(os.path.join(mixed, b"noext"), fmt="PNG")  # found by its signature
    photo(os.path.join(mixed, b".hidden.png"))
    photo(os.path.join(mixed, b".hiddendir", b"x.png"))
    photo(os.path.join(mixed, b"Upper.JPG"), fmt="JPEG")
    with open(os.path.join(mixed, b"corrupt.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    with open(os.path.join(mixed, b"fake.png"), "wb") as f:
        f.write(b"plain text in a .png\n")
    with open(os.path.join(mixed, b"notes.txt"), "wb") as f:
        f.write(b"not an image, skipped\n")
    os.symlink(b"a.png", os.path.join(mixed, b"link_to_file.png"))
    os.symlink(b"sub", os.path.join(mixed, b"link_to_dir"))
    os.symlink(b"nowhere.png", os.path.join(mixed, b"dangling.png"))

    names = os.path.join(root, b"names")
    for n in [b'quo"te.png', b"tab\there.png", b"new\nline.png", b"bad\xffbyte.png",
              b"back\\slash.png", b"caf\xc3\xa9.png", b"colon: space.png"]:
        photo(os.path.join(names, n))


# ---------------------------------------------------------- expected results

def has_signature(path):
    try:
        with open(path, "rb") as f:
            b = f.read(8)
    except OSError:
        return False
    return (b[:2] == b"\xff\xd8" or b == b"\x89PNG\r\n\x1a\n" or b[:4] in (b"GIF8", b"8BPS")
            or b[:2] == b"BM" or (len(b) >= 3 and b[:1] == b"P" and b[1:2] in b"123456"
                                  and b[2:3] in b" \n\r\t"))


def walk(arg):
    found = []

    def rec(full, rel):
        for name in os.listdir(full):
            if name.startswith(b"."):
                continue
            child = os.path.join(full, name)
            crel = rel + b"/" + name if rel else name
            if os.path.islink(child):
                if os.path.isfile(child) and (name.rsplit(b".", 1)[-1].lower() in EXTS
                                              or has_signature(child)):
                    found.append(crel)
            elif os.path.isdir(child):
                rec(child, crel)
            elif os.path.isfile(child):
                if (b"." in name and name.rsplit(b".", 1)[-1].lower() in EXTS) \
                        or has_signature(child):
                    found.append(crel)

    rec(arg, b"")
    sep = b"" if arg.endswith(b"/") else b"/"
    return [arg + sep + r for r in sorted(found)]


def expand(inputs):
    out = []
    for a in inputs:
        a = os.fsencode(a)
        out.extend(walk(a) if os.path.isdir(a) else [a])
    return out


def probabilities(model, path):
    """Softmax scores PyTorch gives the file, or None when Pillow fails."""
    try:
        img = Image.open(path)
        img = img.convert("RGB")
    except Exception:  # noqa: BLE001 - any failure means an error record
        return None
    img = img.resize((8, 8), Image.BILINEAR)
    x = np.asarray(img, dtype=np.float32) / np.float32(255)
    x = (x - MEAN) / STD
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
    with torch.inference_mode():
        return torch.softmax(model(t), 1)[0].numpy()


def read_labels(path):
    if path == "-":
        return None
    labels = []
    for line in open(path, encoding="utf-8").read().splitlines():
        first, _, rest = line.partition(" ")
        is_synset = len(first) == 9 and first[0] == "n" and first[1:].isdigit()
        labels.append(rest if is_synset else line)
    return labels


def unescape(b):
    out, i = bytearray(), 0
    while i < len(b):
        if b[i:i + 1] == b"\\" and i + 1 < len(b):
            out += {b"t": b"\t", b"n": b"\n", b"r": b"\r", b"\\": b"\\"}[b[i + 1:i + 2]]
            i += 2
        else:
            out += b[i:i + 1]
            i += 1
    return bytes(out)


def parse_output(fmt, k, data):
    """[(path bytes, None or [(index, label or None, prob)] , error or None)]"""
    recs = []
    lines = data.split(b"\n")
    assert lines[-1] == b"", "output does not end with a newline"
    lines = lines[:-1]
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if fmt == "json":
            r = json.loads(line.decode("utf-8"))
            path = os.fsencode(r["path"])
            if "error" in r:
                recs.append((path, None, r["error"]))
            else:
                recs.append((path, [(c["index"], c.get("label"), c["probability"])
                                    for c in r["top"]], None))
        elif fmt == "tsv":
            f = line.split(b"\t")
            assert len(f) == 4, f"TSV line has {len(f)} fields: {line!r}"
            if f[1] == b"-1":
                recs.append((unescape(f[0]), None, unescape(f[2]).decode()))
            else:
                recs.append((unescape(f[0]), [(int(f[1]), unescape(f[2]).decode() or None,
                                               float(f[3]))], None))
        else:  # text
            if line.endswith(b":") and k > 1:
                top = []
                for _ in range(k):
                    e = lines[i]
                    i += 1
                    assert e.startswith(b"  ") and e.endswith(b")"), f"bad line {e!r}"
                    lab, _, p = e[2:-1].rpartition(b" (")
                    top.append((None, unescape(lab).decode(), float(p)))
                recs.append((unescape(line[:-1]), top, None))
            elif b": error: " in line:
                p, _, msg = line.partition(b": error: ")
                recs.append((unescape(p), None, unescape(msg).decode()))
            else:
                assert line.endswith(b")"), f"bad line {line!r}"
                head, _, prob = line[:-1].rpartition(b" (")
                p, _, lab = head.rpartition(b": ")
                recs.append((unescape(p), [(None, unescape(lab).decode(), float(prob))], None))
    return recs


def load_torch():
    global torch
    if torch is None:
        import torch as t
        t.set_num_threads(1)
        torch = t


def check_tie_order(path, fmt, top):
    """The output's own order: scores never rise, and (in JSON, which prints
    every float exactly) equal scores list the lower class index first."""
    for (i1, _, p1), (i2, _, p2) in zip(top, top[1:]):
        if p2 > p1:
            fail(f"{path!r}: score rises from {p1} to {p2} down the list")
        if fmt == "json" and p1 == p2 and i1 > i2:
            fail(f"{path!r}: classes {i1} and {i2} tie at {p1}: the lower index must come first")


def check(fmt, k, model_path, labels_path, output, inputs):
    load_torch()
    model = torch.jit.load(model_path).eval()
    labels = read_labels(labels_path)
    expected = expand(inputs)
    got = parse_output(fmt, k, open(output, "rb").read())
    if [g[0] for g in got] != expected:
        fail(f"paths or order differ:\n  got      {[g[0] for g in got]}\n"
             f"  expected {expected}")
    for path, top, err in got:
        probs = probabilities(model, path)
        if probs is None:
            if err is None:
                fail(f"{path!r}: Pillow cannot read it but imgclass classified it")
            if not err:
                fail(f"{path!r}: empty error message")
            continue
        if err is not None:
            fail(f"{path!r}: imgclass failed ({err}) where Pillow reads it")
        want = 1 if fmt == "tsv" else min(k, len(probs))
        if len(top) != want:
            fail(f"{path!r}: {len(top)} classes, expected {want}")
        order = sorted(range(len(probs)), key=lambda c: (-probs[c], c))
        for rank, (idx, lab, p) in enumerate(top):
            if idx is None:  # text output names the class by label only
                names = labels if labels else [f"class {c}" for c in range(len(probs))]
                cands = [c for c in range(len(probs)) if names[c] == lab]
                if not cands:
                    fail(f"{path!r}: unknown label {lab!r}")
                idx = min(cands, key=lambda c: abs(probs[c] - p))
            elif labels is not None and lab != labels[idx]:
                fail(f"{path!r}: label {lab!r} for class {idx}, expected {labels[idx]!r}")
            elif labels is None and lab is not None:
                fail(f"{path!r}: a label {lab!r} without a labels file")
            tol = TOL if fmt != "text" else 1e-5 + 5e-6 * abs(probs[idx])
            if abs(p - probs[idx]) > tol + 1e-6 * abs(probs[idx]):
                fail(f"{path!r}: class {idx} probability {p}, PyTorch {probs[idx]}")
            # its rank: the reference's class at this rank or one tied with it
            if abs(probs[order[rank]] - probs[idx]) > TOL:
                fail(f"{path!r}: rank {rank} is class {idx} ({probs[idx]}), PyTorch ranks "
                     f"class {order[rank]} ({probs[order[rank]]}) there")
            # where PyTorch's scores tie exactly, the lower index comes first
            if probs[order[rank]] == probs[idx] and idx != order[rank]:
                fail(f"{path!r}: rank {rank} is class {idx}, but class {order[rank]} ties "
                     f"with it exactly and has the lower index")
        check_tie_order(path, fmt, top)
    print(f"ok: {fmt}, top-{k}, {len(got)} records match PyTorch")


# ---------------------------------------------------------------- streaming

def stream(imgclass, model, image):
    def start(*extra):
        return subprocess.Popen([imgclass, "classify", "--model", model, "--size", "8x8",
                                 "--crop", "none", "--json", "-v", *extra, "-"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    pending = {}

    def read_line(proc, timeout):
        """One output line within `timeout` s, or None. Reads the raw pipe (a
        buffered reader would hide lines it already holds from select)."""
        buf = pending.setdefault(proc.pid, bytearray())
        end = time.monotonic() + timeout
        while b"\n" not in buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
                return None
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                return None
            buf += chunk
        line, _, rest = bytes(buf).partition(b"\n")
        buf[:] = rest
        return line + b"\n"

    def send(proc, path):
        proc.stdin.write(path.encode() + b"\n")
        proc.stdin.flush()

    # 1. A result arrives while standard input stays open; the next one is
    #    cut by the window: not before it (the window starts after t0), and
    #    by the window (the batch log says so), while standard input is still
    #    open. How soon after the window is the machine's business (ASan
    #    slows it several times): the wait for it has only a generous bound,
    #    which still catches a window read in the wrong unit.
    window = 0.4
    p = start("--batch", "8", "--window-ms", str(int(window * 1000)))
    send(p, image)
    line = read_line(p, 60)
    if line is None or p.poll() is not None:
        fail("no result before the end of standard input (first path)")
    if json.loads(line)["path"] != image:
        fail(f"unexpected record {line!r}")
    t0 = time.monotonic()
    send(p, image)
    line = read_line(p, 60)
    dt = time.monotonic() - t0
    if line is None:
        fail("second result did not arrive within 60 s while stdin was open")
    if dt < window:
        fail(f"batch cut after {dt:.3f} s, before its {window} s window")
    p.stdin.close()
    rest = bytes(pending.get(p.pid, b"")) + p.stdout.read()
    err = p.stderr.read().decode()
    no_sanitizer_report("classify - with a window", err)
    if p.wait(30) != 0 or rest:
        fail(f"exit status {p.returncode}, trailing output {rest!r}, stderr {err}")
    if err.count("cut: window") != 2:
        fail(f"expected two window cuts in the batch log:\n{err}")
    print(f"ok: streamed results before end of input; window cut after {dt:.3f} s")

    # 2. Without a window a batch waits until full, then comes out at once.
    p = start("--batch", "2", "--window-ms", "0")
    send(p, image)
    send(p, image)
    a, b = read_line(p, 60), read_line(p, 60)
    if not a or not b:
        fail("a full batch of 2 was not printed while stdin was open")
    send(p, image)
    # Nothing must come: a second is a chance for a wrong cut to show (the
    # check can miss one that comes later, never fail wrongly).
    if read_line(p, 1.0) is not None:
        fail("a half-full batch was printed with --window-ms 0 before the end of input")
    p.stdin.close()
    last = read_line(p, 30)
    err = p.stderr.read().decode()
    no_sanitizer_report("classify - without a window", err)
    if not last or p.wait(30) != 0:
        fail(f"the last batch was not printed at end of input: {err}")
    if "2 inputs, 2 preprocessed, cut: full" not in err or "cut: end" not in err:
        fail(f"batch log does not show a full cut and an end cut:\n{err}")
    print("ok: --window-ms 0 cuts only full batches and the end of input")


def main():
    cmd = sys.argv[1]
    if cmd == "make-images":
        make_images(sys.argv[2])
    elif cmd == "check":
        fmt, k, model, labels, output = sys.argv[2:7]
        check(fmt, int(k), model, labels, output, sys.argv[7:])
    elif cmd == "check-many":  # MODEL FMT:K:LABELS:OUTPUT... -- INPUT...
        model = sys.argv[2]
        sep = sys.argv.index("--")
        for spec in sys.argv[3:sep]:
            fmt, k, labels, output = spec.split(":", 3)
            check(fmt, int(k), model, labels, output, sys.argv[sep + 1:])
    elif cmd == "stream":
        stream(*sys.argv[2:5])
    else:
        fail(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
