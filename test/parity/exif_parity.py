"""EXIF orientation (--exif-transpose) against Pillow 9.4's
ImageOps.exif_transpose + torchvision, bit for bit.

Generates JPEGs (4:2:0 and 4:4:4, odd and even sizes, non-square so every
rotation changes the shape) and PNGs carrying each Orientation tag 1-8,
written by Pillow's own Image.Exif(); then for each recipe (ImageNet,
whose JPEG path decodes only the cropped region when nothing rotates;
DJL's exact resize; no resize, which shows the raw transposed pixels) runs
`imgclass preprocess --exif-transpose` and compares every float32 with
    Normalize(ToTensor(CenterCrop(Resize(exif_transpose(Image.open(f)).convert("RGB")))))
Without --exif-transpose the same files must give Image.open(f) as stored.
Files with a malformed EXIF block must decode as stored (Pillow raises on
some of them; imgclass keeps the image, see docs/preprocessing.md).

usage: exif_parity.py IMGCLASS_BINARY          exit 0 pass, 1 fail
"""
import os
import struct
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch  # noqa: F401
from PIL import Image, ImageOps
from torchvision import transforms as T

sys.path.insert(0, os.path.dirname(__file__))
from preprocess_parity import MEAN, STD, content  # noqa: E402

failures = 0
# Pillow warns about the deliberately malformed blocks below.
warnings.filterwarnings("ignore", category=UserWarning, module="PIL")


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def exif_bytes(orientation):
    e = Image.Exif()
    e[0x0112] = orientation
    return e.tobytes()


def generate(tmp):
    files = []
    for i, (w, h, kind, kw) in enumerate([
            (97, 61, "jpg", {"quality": 90, "subsampling": 2}),
            (640, 427, "jpg", {"quality": 85, "subsampling": 2}),
            (301, 500, "jpg", {"quality": 95, "subsampling": 0}),
            (257, 130, "png", {})]):
        px = Image.fromarray(content(w, h, 70 + i))
        for o in range(1, 9):
            path = os.path.join(tmp, f"o{o}_{w}x{h}.{kind}")
            px.save(path, exif=exif_bytes(o), **kw)
            files.append((path, o))
    return files


def reference(path, resize, crop, transpose, mean=MEAN, std=STD):
    steps = []
    if resize is not None:
        steps.append(T.Resize(resize))
    if crop is not None:
        steps.append(T.CenterCrop(crop))
    steps += [T.ToTensor(), T.Normalize(mean, std)]
    with Image.open(path) as im:
        if transpose:
            im = ImageOps.exif_transpose(im)
        return T.Compose(steps)(im.convert("RGB")).numpy()


def run_cli(binary, args, files, out):
    r = subprocess.run([binary, "preprocess"] + args + ["--npy", out] + files,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"imgclass preprocess exited {r.returncode}: {r.stderr.strip()}")
    return np.load(out)


def same_bits(a, b):
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def check_recipes(binary, tmp, files):
    recipes = [("imagenet", [], 256, 224), ("djl", ["--preset", "djl"], (256, 256), 224)]
    paths = [p for p, _ in files]
    for name, args, resize, crop in recipes:
        for transpose in (1, 0):
            flag = ["--exif-transpose"] if transpose else []
            got = run_cli(binary, args + flag, paths, os.path.join(tmp, name + ".npy"))
            bad = [os.path.basename(p) for i, p in enumerate(paths)
                   if not same_bits(got[i], reference(p, resize, crop, transpose))]
            what = f"{name}{' --exif-transpose' if transpose else ''}"
            if bad:
                fail(f"{what}: {len(bad)} of {len(paths)} differ: {' '.join(bad[:6])}")
            else:
                print(f"{what}: {len(paths)} images (tags 1-8), bit-identical")


def check_pixels(binary, tmp, files):
    """No resize: the whole transposed image, one file per run (sizes differ)."""
    n, before = 0, failures
    for path, o in files:
        with Image.open(path) as im:
            ref = ImageOps.exif_transpose(im).convert("RGB")
        w, h = ref.size
        args = ["--exif-transpose", "--resize-mode", "none", "--crop", f"{w}x{h}",
                "--mean", "0,0,0", "--std", "1,1,1"]
        got = run_cli(binary, args, [path], os.path.join(tmp, "px.npy"))[0]
        want = reference(path, None, (h, w), 1, [0, 0, 0], [1, 1, 1])
        if not same_bits(got, want):
            fail(f"raw pixels of {os.path.basename(path)} (tag {o}) differ")
        n += 1
    if failures == before:
        print(f"raw transposed pixels: {n} images, bit-identical")


def jpeg_with_app1(tmp, name, payload):
    """A small JPEG whose first segment after SOI is APP1 = payload."""
    path = os.path.join(tmp, name)
    Image.fromarray(content(45, 29, 3)).save(path, quality=90)
    data = open(path, "rb").read()
    seg = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    open(path, "wb").write(data[:2] + seg + data[2:])
    return path


def check_malformed(binary, tmp):
    """Broken or odd EXIF leaves the image as stored, never an error."""
    ifd = lambda endian, entries, count=None: (  # noqa: E731
        (b"II*\0" if endian == "<" else b"MM\0*") + struct.pack(endian + "I", 8)
        + struct.pack(endian + "H", len(entries) if count is None else count)
        + b"".join(struct.pack(endian + "HHI", t, ty, c) + v for t, ty, c, v in entries))
    short6 = (0x0112, 3, 1, struct.pack("<HH", 6, 0))
    cases = {
        "not-tiff.jpg": (b"Exif\0\0" + b"XX*\0\x08\0\0\0\x01\0" + b"\0" * 12, False),
        "ifd-offset-outside.jpg": (b"Exif\0\0II*\0\xff\xff\0\0", False),
        "truncated-ifd.jpg": (b"Exif\0\0" + ifd("<", [short6], count=3)[:-4], False),
        "tag-9.jpg": (b"Exif\0\0" + ifd("<", [(0x0112, 3, 1, struct.pack("<HH", 9, 0))]), False),
        "tag-0.jpg": (b"Exif\0\0" + ifd("<", [(0x0112, 3, 1, struct.pack("<HH", 0, 0))]), False),
        "text-type.jpg": (b"Exif\0\0" + ifd("<", [(0x0112, 2, 2, b"6\0\0\0")]), False),
        "out-of-line-outside.jpg": (b"Exif\0\0" + ifd("<", [(0x0112, 3, 3, b"\xf0\0\0\0")]),
                                    False),
        # Valid but unusual: Pillow rotates these.
        "long-type.jpg": (b"Exif\0\0" + ifd("<", [(0x0112, 4, 1, struct.pack("<I", 6))]), True),
        "big-endian.jpg": (b"Exif\0\0" + ifd(">", [(0x0112, 3, 1, struct.pack(">HH", 8, 0))]),
                           True),
        "second-entry-wins.jpg": (b"Exif\0\0" + ifd("<", [short6, (0x0112, 3, 1,
                                                                   b"\x03\0\0\0")]), True),
    }
    before = failures
    for name, (payload, rotates) in cases.items():
        path = jpeg_with_app1(tmp, name, payload)
        try:
            with Image.open(path) as im:
                pil = ImageOps.exif_transpose(im).convert("RGB")
        except Exception:  # Pillow raises on some malformed headers
            pil = None
        with Image.open(path) as im:
            stored = im.convert("RGB")
        expect = pil if pil is not None else stored
        if rotates and (pil is None or pil.tobytes() == stored.tobytes()):
            fail(f"{name}: the test expects Pillow to transpose it")
        w, h = expect.size
        args = ["--exif-transpose", "--resize-mode", "none", "--crop", f"{w}x{h}",
                "--mean", "0,0,0", "--std", "1,1,1"]
        try:
            got = run_cli(binary, args, [path], os.path.join(tmp, "m.npy"))[0]
        except RuntimeError as e:
            fail(f"{name}: {e}")
            continue
        want = (np.asarray(expect, np.float32) / np.float32(255)).transpose(2, 0, 1)
        if not same_bits(got, want):
            fail(f"{name}: differs from {'Pillow' if pil is not None else 'the stored image'}")
    if failures == before:
        print(f"{len(cases)} unusual or malformed EXIF blocks: as Pillow, or as stored where "
              "Pillow raises")


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        files = generate(tmp)
        check_recipes(binary, tmp, files)
        check_pixels(binary, tmp, files)
        check_malformed(binary, tmp)
    if failures:
        print(f"exif parity: {failures} failure(s)")
        return 1
    print("exif parity: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
