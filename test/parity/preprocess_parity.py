"""Bit-exactness of `imgclass preprocess` against torchvision + Pillow.

Generates a varied image set with Pillow (sizes, aspect ratios, JPEG
subsamplings and progressive, PNG modes, BMP, GIF, CMYK JPEG), adds the
sample photos when present (test/parity/sample_photos.py), runs the
CLI with several recipes and compares every float32 element's bits with
    Normalize(ToTensor(CenterCrop(Resize(Image.open(f).convert("RGB")))))

usage: preprocess_parity.py IMGCLASS_BINARY [--fast-report]
Exit status 0 only when no element differs and the sample photos were
there; 77 (skip) when only the generated set ran, or 1 instead when
IMGCLASS_REQUIRE_PHOTOS=1; 1 when anything differs. With --fast-report it instead
prints how far --fast is from exact on the sample photos (for the docs).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image, ImageFile
from torchvision import transforms as T

import sample_photos

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
# Noisy progressive JPEGs can outgrow Pillow's default encoder buffer.
ImageFile.MAXBLOCK = 1 << 24


def content(w, h, seed):
    """Smooth gradients plus noise and a hard edge: exercises every weight."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = np.stack([
        127 + 120 * np.sin(x / (3 + seed % 7) + y / 11.0),
        (x * 255.0 / max(w - 1, 1)),
        (y * 255.0 / max(h - 1, 1)),
    ], axis=-1)
    base[(x + 2 * y) % 37 < 9] = 255 - base[(x + 2 * y) % 37 < 9]
    noisy = base + rng.normal(0, 25, base.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def generate(folder):
    files = []

    def save(name, img, **kw):
        path = os.path.join(folder, name)
        img.save(path, **kw)
        files.append(path)

    sizes = [(1, 1), (2, 3), (3, 2), (1, 300), (300, 1), (1, 7), (5, 1), (256, 256),
             (256, 300), (300, 256), (224, 224), (224, 500), (256, 343), (343, 256),
             (500, 375), (375, 500), (333, 517), (517, 333), (257, 259), (3000, 200),
             (200, 3000), (1023, 767), (1500, 1000), (101, 151), (640, 480), (225, 224)]
    for i, (w, h) in enumerate(sizes):
        save("png_%dx%d.png" % (w, h), Image.fromarray(content(w, h, i)))
    for i, (w, h) in enumerate([(500, 375), (333, 517), (97, 61), (1200, 800)]):
        rgb = Image.fromarray(content(w, h, 40 + i))
        for sub in (0, 1, 2):
            for prog in (False, True):
                save("jpeg_%dx%d_s%d_%s.jpg" % (w, h, sub, "prog" if prog else "base"), rgb,
                     quality=90, subsampling=sub, progressive=prog)
        save("jpeg_%dx%d_gray.jpg" % (w, h), rgb.convert("L"), quality=85)
        save("jpeg_%dx%d_gray_prog.jpg" % (w, h), rgb.convert("L"), quality=85,
             progressive=True)
    rgb = Image.fromarray(content(403, 299, 50))
    save("rgba.png", rgb.convert("RGBA"))
    rgba = np.dstack([content(403, 299, 51), np.arange(403 * 299, dtype=np.uint32)
                      .reshape(299, 403).astype(np.uint8)])
    save("rgba_alpha.png", Image.fromarray(rgba, "RGBA"))
    save("palette.png", rgb.quantize(colors=200))
    save("gray.png", rgb.convert("L"))
    save("gray_alpha.png", rgb.convert("LA"))
    i16 = (np.arange(301 * 257, dtype=np.uint32).reshape(257, 301) * 7 % 600).astype(np.uint16)
    save("gray16.png", Image.fromarray(i16, "I;16"))
    save("rgb.bmp", rgb)
    save("palette.gif", rgb.quantize(colors=128))
    cmyk = [os.path.join(folder, "cmyk.jpg")]
    rgb.convert("CMYK").save(cmyk[0], quality=90)
    return files, cmyk


def reference(path, resize, crop, mean=MEAN, std=STD, interp=T.InterpolationMode.BILINEAR):
    steps = []
    if resize is not None:
        steps.append(T.Resize(resize, interpolation=interp))
    if crop is not None:
        steps.append(T.CenterCrop(crop))
    steps += [T.ToTensor(), T.Normalize(mean, std)]
    with Image.open(path) as im:
        return T.Compose(steps)(im.convert("RGB")).numpy()


def run_cli(binary, args, files, out):
    r = subprocess.run([binary, "preprocess"] + args + ["--npy", out] + files,
                       capture_output=True, text=True)
    return r.returncode, r.stderr


BICUBIC = T.InterpolationMode.BICUBIC
# (name, CLI arguments, torchvision Resize argument, CenterCrop argument, mean, std
#  [, interpolation])
RECIPES = [
    ("imagenet", [], 256, 224, MEAN, STD),
    ("djl", ["--preset", "djl"], (256, 256), 224, MEAN, STD),
    ("no-resize", ["--resize-mode", "none", "--crop", "224"], None, 224, MEAN, STD),
    ("exact-odd", ["--resize-mode", "exact", "--size", "300x200", "--crop", "320x150",
                   "--mean", "0.5,0.25,0", "--std", "0.25,0.5,2"],
     (200, 300), (150, 320), [0.5, 0.25, 0.0], [0.25, 0.5, 2.0]),
    # Bicubic: the cubic's negative lobes and clipping, both resize modes,
    # downscaling and (small generated images) upscaling.
    ("bicubic", ["--interpolation", "bicubic"], 256, 224, MEAN, STD, BICUBIC),
    ("bicubic-exact", ["--interpolation", "bicubic", "--resize-mode", "exact",
                       "--size", "300x200", "--crop", "320x150"],
     (200, 300), (150, 320), MEAN, STD, BICUBIC),
]


def compare(binary, tmp, name, args, resize, crop, mean, std, files,
            interp=T.InterpolationMode.BILINEAR):
    out = os.path.join(tmp, name + ".npy")
    rc, err = run_cli(binary, args, files, out)
    if rc != 0:
        print("FAIL %s: imgclass exited %d: %s" % (name, rc, err.strip()))
        return len(files), None
    got = np.load(out)
    bad_images = 0
    bad_elements = 0
    for i, f in enumerate(files):
        ref = reference(f, resize, crop, mean, std, interp)
        if got[i].shape != ref.shape:
            print("FAIL %s %s: shape %s, reference %s" % (name, f, got[i].shape, ref.shape))
            bad_images += 1
            continue
        diff = got[i].view(np.uint32) != ref.view(np.uint32)
        if diff.any():
            bad_images += 1
            bad_elements += int(diff.sum())
            print("FAIL %s %s: %d elements differ, max |diff| %g" %
                  (name, os.path.basename(f), diff.sum(), np.abs(got[i] - ref).max()))
    print("%-10s %4d images, %d differ, %d differing elements" %
          (name, len(files), bad_images, bad_elements))
    return bad_images, bad_elements


def check_cmyk(binary, tmp, files):
    """CMYK JPEG: exact, or refused with a clear error naming the file."""
    bad = 0
    for f in files:
        out = os.path.join(tmp, "cmyk.npy")
        rc, err = run_cli(binary, [], [f], out)
        if rc == 0:
            diff = np.load(out)[0].view(np.uint32) != reference(f, 256, 224).view(np.uint32)
            print("cmyk       decoded, %d differing elements" % diff.sum())
            bad += int(diff.any())
        elif rc == 2 and f in err:
            print("cmyk       refused: %s" % err.strip().splitlines()[0])
        else:
            print("FAIL cmyk: exit %d, stderr %r" % (rc, err))
            bad += 1
    return bad


def fast_report(binary, tmp, files):
    out_exact = os.path.join(tmp, "exact.npy")
    out_fast = os.path.join(tmp, "fast.npy")
    for args, out in (([], out_exact), (["--fast"], out_fast)):
        rc, err = run_cli(binary, args, files, out)
        if rc != 0:
            sys.exit("imgclass failed: " + err)
    e, f = np.load(out_exact), np.load(out_fast)
    std = np.array(STD, dtype=np.float32).reshape(1, 3, 1, 1)
    levels = np.abs(e - f) * std * 255.0
    changed = sum(1 for i in range(len(files)) if not np.array_equal(e[i], f[i]))
    print("fast vs exact on %d images (%d changed): max |diff| %.4f normalised, %.1f levels; "
          "mean |diff| %.4f levels" % (len(files), changed, np.abs(e - f).max(),
                                        levels.max(), levels.mean()))


def main():
    binary = sys.argv[1]
    samples = sample_photos.photos()
    with tempfile.TemporaryDirectory() as tmp:
        if "--fast-report" in sys.argv:
            fast_report(binary, tmp, samples or generate(tmp)[0])
            return 0
        generated, cmyk = generate(tmp)
        print("%d generated images, %d sample photos%s" %
              (len(generated), len(samples), "" if samples else " (folder absent)"))
        failures = 0
        for name, args, resize, crop, mean, std, *interp in RECIPES:
            files = generated + samples if name == "imagenet" else generated + samples[:10]
            bad, _ = compare(binary, tmp, name, args, resize, crop, mean, std, files, *interp)
            failures += bad
        failures += check_cmyk(binary, tmp, cmyk)
    print("preprocess parity: %s" % ("PASS" if failures == 0 else "FAIL"))
    if failures:
        return 1
    return 0 if samples else sample_photos.absent_verdict("preprocess parity")


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
