#!/usr/bin/env python3
"""One model, one answer: a model that carries a recipe far from the ImageNet
default (Resize 320 bicubic, CenterCrop 300, its own mean and std) is
classified through every door with no preprocessing option: imgclass
classify, imgclass-serve, imgclass-watch and the Python binding. Each gives
the same float32 scores, bit for bit, and they equal torch's on the
torchvision transforms of the same recipe. Then one explicit option
(--crop 200 / crop=200) overrides only that field, the same way everywhere.

    one_answer.py BUILD

Every door runs batches of one image (--batch 1, one image a call), so the
forward passes are the same and the comparison can be exact. Bounded:
every process has a timeout; servers listen on 127.0.0.1 only.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T

from sanitizer_report import report as sanitizer_report

RECIPE = {"resize": 320, "crop": 300, "interpolation": "bicubic",
          "mean": (0.3, 0.4, 0.5), "std": (0.2, 0.25, 0.3)}
CLASSES = ["class%d" % i for i in range(10)]
MODULE = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    """Small, and its scores depend on every pixel the crop keeps."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 5, stride=4)
        # to 1 x 1: MKLDNN's adaptive pooling needs sizes that divide
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))
'''

failures = []
SANITIZED = os.environ.get("SANITIZED", "0") == "1"


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures.append(what)


def run(cmd, timeout=300, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if r.returncode != 0 or sanitizer_report(r.stderr):
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                  r.stderr))
    return r


def make_photos(folder):
    """Two photo-like images, of other sizes than the recipe's, as JPEG
    and PNG (the decoders differ)."""
    rng = np.random.default_rng(5)
    paths = []
    for name, (w, h) in (("a.jpg", (517, 389)), ("b.png", (360, 480))):
        y, x = np.mgrid[0:h, 0:w]
        base = np.stack([x * 255 // w, y * 255 // h, (x + y) * 127 // (w + h)], -1)
        noise = rng.integers(0, 60, size=base.shape)
        img = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))
        p = os.path.join(folder, name)
        img.save(p, quality=90) if name.endswith(".jpg") else img.save(p)
        paths.append(p)
    return paths


def export_model(tmp):
    with open(os.path.join(tmp, "net.py"), "w") as f:
        f.write(MODULE)
    with open(os.path.join(tmp, "classes.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    out = os.path.join(tmp, "recipe320.pt")
    r = RECIPE
    run([sys.executable, "tools/export_model.py", "--module", os.path.join(tmp, "net.py") + ":Net",
         "--random-seed", "0", "--resize", str(r["resize"]), "--crop", str(r["crop"]),
         "--interpolation", r["interpolation"], "--mean", ",".join(map(str, r["mean"])),
         "--std", ",".join(map(str, r["std"])), "--class-names",
         os.path.join(tmp, "classes.txt"), out])
    return out


def torch_scores(model_path, photo, crop):
    """The reference: torchvision's transforms of the recipe, then the
    model as saved, softmax in float32."""
    r = RECIPE
    tf = T.Compose([T.Resize(r["resize"], interpolation=T.InterpolationMode.BICUBIC),
                    T.CenterCrop(crop), T.ToTensor(), T.Normalize(r["mean"], r["std"])])
    x = tf(Image.open(photo).convert("RGB")).unsqueeze(0)
    m = torch.jit.load(model_path).eval()
    with torch.no_grad():
        return torch.softmax(m(x), 1)[0].numpy().astype(np.float32)


def scores_from_top(top):
    """The full score vector from a record's "top" list (every class)."""
    s = np.full(len(CLASSES), np.nan, dtype=np.float32)
    for c in top:
        s[c["index"]] = np.float32(c["probability"])
    return s


def cli_scores(build, model, photos, extra):
    out = run([os.path.join(build, "imgclass"), "classify", "--model", model, "--json",
               "--topk", "all", "--batch", "1"] + extra + photos).stdout
    recs = {json.loads(line)["path"]: json.loads(line) for line in out.splitlines()}
    return [scores_from_top(recs[p]["top"]) for p in photos]


def watch_scores(build, model, photos, extra, tmp):
    inp = tempfile.mkdtemp(dir=tmp)
    outp = tempfile.mkdtemp(dir=tmp)
    for p in photos:
        os.symlink(p, os.path.join(inp, os.path.basename(p)))
    run([os.path.join(build, "imgclass-watch"), "--model", model, "--input", inp, "--output", outp,
         "--once", "--format", "jsonl", "--topk", str(len(CLASSES)), "--batch", "1"] + extra)
    recs = {}
    for root, _, files in os.walk(outp):
        for f in files:
            if f.startswith("part-") and f.endswith(".jsonl"):
                for line in open(os.path.join(root, f)):
                    rec = json.loads(line)
                    recs[os.path.basename(rec["path"])] = rec
    return [scores_from_top(recs[os.path.basename(p)]["top"]) for p in photos]


def serve_scores(build, model, photos, extra):
    cmd = [os.path.join(build, "imgclass-serve"), "--model", "m=" + model,
           "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--batch", "1"] + extra
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port, log = [], []
    ready = threading.Event()

    def drain():
        for line in proc.stderr:
            log.append(line)
            m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                port.append(int(m.group(1)))
                ready.set()
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        deadline = time.time() + 120
        while not ready.wait(0.1):
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("imgclass-serve did not start:\n" +
                                   b"".join(log).decode(errors="replace"))
        result = []
        for p in photos:
            req = urllib.request.Request("http://127.0.0.1:%d/predictions/m?topk=%d" %
                                         (port[0], len(CLASSES)), data=open(p, "rb").read(),
                                         method="POST")
            with urllib.request.urlopen(req, timeout=60) as resp:
                answer = json.loads(resp.read())
            s = np.full(len(CLASSES), np.nan, dtype=np.float32)
            for label, prob in answer.items():
                s[CLASSES.index(label)] = np.float32(prob)
            result.append(s)
        return result, b"".join(log).decode(errors="replace")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = None
        reader.join(5)
        # Recorded, not raised: an exception on the way out stays the one seen.
        rep = sanitizer_report(b"".join(log))
        check(rc == 0 and not rep, "imgclass-serve%s: exit %s on SIGTERM%s" %
              ("".join(" " + a for a in extra), rc,
               ", a sanitizer report:\n" + rep if rep else ""))


def python_scores(build, model, photos, override):
    # This build's library, never one installed on the machine.
    os.environ["IMGCLASS_LIBRARY"] = os.path.abspath(os.path.join(build, "libimgclass.so"))
    sys.path.insert(0, os.path.join(os.getcwd(), "bindings", "python"))
    import imgclass
    kw = {"preprocess": override} if override else {}
    with imgclass.Model(model, **kw) as m:
        # one image a call: batches of one, as the other doors here
        return [m.classify([p], topk=-1)[0].scores for p in photos]


def compare(name, got, want_exact, reference):
    for i, (g, w, ref) in enumerate(zip(got, want_exact, reference)):
        check(not np.isnan(g).any(), "%s, photo %d: every class scored" % (name, i))
        check(np.array_equal(g.view(np.uint32), w.view(np.uint32)),
              "%s, photo %d: the same float32 bits as imgclass classify" % (name, i))
        err = float(np.abs(g - ref).max())
        check(err <= 2e-6, "%s, photo %d: equal to torch on the recipe's transforms (max "
                           "difference %.3g)" % (name, i, err))


def main():
    build = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="one_answer.")
    photos = make_photos(tmp)
    model = export_model(tmp)
    for label, crop, extra, override in (("the model's recipe", RECIPE["crop"], [], None),
                                         ("--crop 200 on the recipe", 200, ["--crop", "200"],
                                          {"crop": 200})):
        print("--- %s" % label, flush=True)
        reference = [torch_scores(model, p, crop) for p in photos]
        cli = cli_scores(build, model, photos, extra)
        compare("imgclass classify", cli, cli, reference)
        if not extra:  # the default differs from the recipe: a door that ignores it fails
            check(not np.allclose(cli[0], torch_scores_imagenet(model, photos[0]), atol=1e-6),
                  "the recipe's answer differs from the ImageNet default's")
        served, log = serve_scores(build, model, photos, extra)
        compare("imgclass-serve", served, cli, reference)
        want = "--crop %dx%d" % (crop, crop)
        check(want in log and ("with options on top" in log) == bool(extra),
              "imgclass-serve's start-up line names the preprocessing in use (%s)" % want)
        compare("imgclass-watch", watch_scores(build, model, photos, extra, tmp), cli, reference)
        if SANITIZED:
            # The sanitized library and engine cannot load into a plain
            # interpreter; the binding's door is checked in the plain phase.
            print("sanitized run: the Python door runs in the plain phase", flush=True)
        else:
            compare("Python Model.classify", python_scores(build, model, photos, override), cli,
                    reference)
    print("%d failed" % len(failures))
    return 1 if failures else 0


def torch_scores_imagenet(model_path, photo):
    tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                    T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    x = tf(Image.open(photo).convert("RGB")).unsqueeze(0)
    with torch.no_grad():
        return torch.softmax(torch.jit.load(model_path).eval()(x), 1)[0].numpy()


if __name__ == "__main__":
    sys.exit(main())
