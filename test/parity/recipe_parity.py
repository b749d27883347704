"""The recipes of torchvision's weights, end to end.

1. Every distinct recipe of the checked-in --preset table (one weights
   name each; 28 in torchvision 0.14) through `imgclass preprocess --preset
   torchvision:NAME`, compared bit for bit with that weights' own
   transforms() on generated images and, when present, a subset of the
   sample photos.
2. The table is what tools/gen_torchvision_presets.py generates now.
3. A model exported by tools/export_model.py with a recipe (random weights,
   a bicubic torchvision recipe, no network) and classified with no
   preprocessing option gives the top-k that the Python pipeline with the
   weights' transforms() gives.

usage: recipe_parity.py IMGCLASS_BINARY
Exit status 0 pass, 1 fail, 77 when everything passed without the sample
photos (1 instead with IMGCLASS_REQUIRE_PHOTOS=1: test/parity/sample_photos.py).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
from preprocess_parity import generate  # noqa: E402
import sample_photos  # noqa: E402
import gen_torchvision_presets  # noqa: E402

# Photos per recipe (of the 100): enough to cover real JPEGs at every size
# the recipes resize to, within the suite's time budget.
PHOTOS = 8
TABLE = os.path.join(ROOT, "examples", "common", "torchvision_presets.c")
# The end-to-end model: random weights (ResNet-18's initialisation gives
# scores that follow the pixels; MobileNet's gives uniform ones) and the
# recipe of a bicubic weights (so nothing is downloaded).
E2E_ARCH = "resnet18"
E2E_WEIGHTS = "EfficientNet_B0_Weights.IMAGENET1K_V1"
TOPK = 5


def weights_by_name(name):
    from torchvision import models
    enum, member = name.split(".")
    return getattr(models, enum)[member]


def reference(weights, path):
    with Image.open(path) as im:
        return weights.transforms()(im.convert("RGB")).numpy()


def check_table():
    version, rows = gen_torchvision_presets.recipes()
    import io
    import contextlib
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        sys.argv, saved = ["gen"], sys.argv
        try:
            gen_torchvision_presets.main()
        finally:
            sys.argv = saved
    with open(TABLE) as f:
        same = f.read() == buf.getvalue()
    print("table      %d weights, %s" % (len(rows), "up to date" if same else
                                         "DIFFERS from tools/gen_torchvision_presets.py"))
    distinct = {}
    for r in rows:
        distinct.setdefault(r[1:], r[0])
    return (0 if same else 1), sorted(distinct.values())


def check_presets(binary, tmp, names, files):
    bad = 0
    for name in names:
        w = weights_by_name(name)
        out = os.path.join(tmp, "p.npy")
        r = subprocess.run([binary, "preprocess", "--preset", "torchvision:" + name,
                            "--npy", out] + files, capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL %s: imgclass exited %d: %s" % (name, r.returncode, r.stderr.strip()))
            bad += 1
            continue
        got = np.load(out)
        differ = 0
        for i, f in enumerate(files):
            ref = reference(w, f)
            if got[i].shape != ref.shape or (got[i].view(np.uint32) != ref.view(np.uint32)).any():
                differ += 1
                print("FAIL %s %s" % (name, os.path.basename(f)))
        t = w.transforms()
        print("%-48s %s %d/%d %-8s %3d images, %d differ" %
              (name, "resize", t.resize_size[0], t.crop_size[0],
               str(t.interpolation).split(".")[-1].lower(), len(files), differ))
        bad += differ > 0
    return bad


def classify(binary, model, files, extra):
    r = subprocess.run([binary, "classify", "--model", model, "--json", "--topk", str(TOPK)]
                       + extra + files, capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL classify %s: exit %d: %s" % (extra, r.returncode, r.stderr.strip()[-500:]))
        return None
    records = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return {rec["path"]: rec["top"] for rec in records}


def check_topk(binary, tmp, files):
    model = os.path.join(tmp, "recipe_model.pt")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "export_model.py"),
                        "--arch", E2E_ARCH, "--random-seed", "5", "--recipe-weights",
                        E2E_WEIGHTS, model], capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL export: %s" % r.stderr.strip()[-500:])
        return 1
    # imgclass knows how to feed it: no preprocessing option at all. The
    # control run with the imagenet preset (bilinear, the default without
    # a recipe) shows that the comparison can tell the two apart.
    got_all = classify(binary, model, files, [])
    control = classify(binary, model, files, ["--preset", "imagenet"])
    if got_all is None or control is None:
        return 1
    w = weights_by_name(E2E_WEIGHTS)
    net = torch.jit.load(model).eval()
    bad = told_apart = 0
    for f in files:
        top = got_all.get(f)
        if top is None:
            print("FAIL topk: no record for %s" % f)
            bad += 1
            continue
        with torch.no_grad():
            probs = torch.softmax(net(torch.from_numpy(reference(w, f))[None]), 1)[0].numpy()
        got = [c["index"] for c in top]
        want = list(np.argsort(-probs, kind="stable")[:TOPK])
        # The same classes in the same order, up to classes whose
        # probabilities tie within the engine's float noise (imgclass runs
        # the frozen, optimised graph), and the same probabilities.
        same_order = got == want or all(abs(probs[g] - probs[x]) <= 1e-5
                                        for g, x in zip(got, want))
        close = all(abs(c["probability"] - probs[c["index"]]) <= 1e-4 for c in top)
        if not (same_order and close):
            print("FAIL topk %s: imgclass %s, Python %s" %
                  (os.path.basename(f), [(c["index"], c["probability"]) for c in top],
                   [(int(i), float(probs[i])) for i in want]))
            bad += 1
        ctl = control.get(f, [])
        if any(abs(c["probability"] - probs[c["index"]]) > 1e-4 for c in ctl):
            told_apart += 1
    print("top-%d      %s (random weights) with the recipe of %s, no options: %d images, "
          "%d differ; the imagenet preset differs on %d" %
          (TOPK, E2E_ARCH, E2E_WEIGHTS, len(files), bad, told_apart))
    if told_apart == 0:
        print("FAIL topk: the check cannot tell the recipe from the default preprocessing")
        bad += 1
    return bad


def main():
    binary = sys.argv[1]
    photos = sample_photos.photos()[:PHOTOS]
    failures, names = check_table()
    with tempfile.TemporaryDirectory() as tmp:
        generated, _cmyk = generate(tmp)
        # Every size class of the generated set, fewer of the tiny ones.
        files = generated[::3] + photos
        print("%d distinct recipes; %d generated images, %d sample photos%s" %
              (len(names), len(generated[::3]), len(photos),
               "" if photos else " (folder absent)"))
        failures += check_presets(binary, tmp, names, files)
        failures += check_topk(binary, tmp, generated[::6] + photos)
    print("recipe parity: %s" % ("PASS" if failures == 0 else "FAIL"))
    if failures:
        return 1
    return 0 if photos else sample_photos.absent_verdict("recipe parity")


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
