"""Decoding parity with Pillow 9.4: imgclass_image_load_memory() must give
the same RGB bytes as Image.open(f).convert("RGB"), and must fail exactly
where Pillow fails on truncated JPEG, BMP, TGA and GIF files ("image file
is truncated").

Usage: decode_parity.py path/to/libimgclass.so
(the sample photos: test/parity/sample_photos.py)
Files: Pillow-written JPEG (baseline, progressive, 4:4:4, 4:2:2, gray,
CMYK with Adobe inversion), PNG (RGB, RGBA, L, LA, P, 1-bit, 16-bit gray
through mode I, and hand-made 16-bit LA/RGB/RGBA), BMP, TGA (+RLE), PPM,
PGM, GIF, plus the sample photos when present."""
import ctypes
import io
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image

import sample_photos

lib = ctypes.CDLL(sys.argv[1])
lib.imgclass_image_load_memory.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p,
                                           ctypes.POINTER(ctypes.c_void_p)]
lib.imgclass_image_pixels.restype = ctypes.POINTER(ctypes.c_uint8)
lib.imgclass_image_pixels.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
lib.imgclass_image_width.argtypes = lib.imgclass_image_height.argtypes = [ctypes.c_void_p]
lib.imgclass_image_free.argtypes = [ctypes.c_void_p]
lib.imgclass_last_error.restype = ctypes.c_char_p


def ours(data):
    im = ctypes.c_void_p()
    st = lib.imgclass_image_load_memory(data, len(data), None, ctypes.byref(im))
    if st != 0:
        return None, lib.imgclass_last_error().decode()
    w, h = lib.imgclass_image_width(im), lib.imgclass_image_height(im)
    stride = ctypes.c_size_t()
    p = lib.imgclass_image_pixels(im, ctypes.byref(stride))
    buf = np.ctypeslib.as_array(p, shape=(h * stride.value,)).copy()
    lib.imgclass_image_free(im)
    return buf.reshape(h, stride.value)[:, :w * 3].reshape(h, w, 3), None


def pillow(data):
    try:
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    except Exception:  # Pillow refused the file
        return None


def encoded(im, **kw):
    b = io.BytesIO()
    im.save(b, **kw)
    return b.getvalue()


def png16(arr, ctype):
    h, w = arr.shape[:2]
    raw = b"".join(b"\0" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, ctype, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def with_empty_idat(png):
    """The PNG with empty IDAT chunks before its image data (valid: they add
    nothing to the stream; stb_image needed them removed, see decode_stb.c)."""
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))
    at = png.index(b"IDAT") - 4
    return png[:at] + chunk(b"IDAT", b"") + chunk(b"IDAT", b"") + png[at:]


rng = np.random.default_rng(0)
noise = rng.integers(0, 256, (61, 83, 3)).astype(np.uint8)
ramp = np.clip(np.add.outer(np.arange(61), np.arange(83))[..., None] * [1, 2, 3], 0, 255)
img = Image.fromarray(np.where(rng.random((61, 83, 1)) < .5, noise, ramp).astype(np.uint8))
cases = {
    "cmyk.jpg": encoded(img.convert("CMYK"), format="JPEG", quality=90),
    "cmyk-noise.jpg": encoded(Image.fromarray(rng.integers(0, 256, (40, 50, 4)).astype(np.uint8),
                                              "CMYK"), format="JPEG", quality=80),
    "q75.jpg": encoded(img, format="JPEG", quality=75),
    "progressive.jpg": encoded(img, format="JPEG", progressive=True),
    "gray.jpg": encoded(img.convert("L"), format="JPEG"),
    "444.jpg": encoded(img, format="JPEG", subsampling=0),
    "422.jpg": encoded(img, format="JPEG", subsampling=1),
    "rgb.png": encoded(img, format="PNG"), "rgba.png": encoded(img.convert("RGBA"), format="PNG"),
    "l.png": encoded(img.convert("L"), format="PNG"), "la.png": encoded(img.convert("LA"), format="PNG"),
    "p.png": encoded(img.convert("P"), format="PNG"), "1.png": encoded(img.convert("1"), format="PNG"),
    "i16.png": encoded(Image.fromarray(rng.integers(0, 600, (30, 20)).astype(np.int32), "I"),
                       format="PNG"),
    "empty-idat.png": with_empty_idat(encoded(img, format="PNG")),
    "la16.png": png16(rng.integers(0, 65536, (10, 12, 2)), 4),
    "rgb16.png": png16(rng.integers(0, 65536, (10, 12, 3)), 2),
    "rgba16.png": png16(rng.integers(0, 65536, (10, 12, 4)), 6),
    "rgb.bmp": encoded(img, format="BMP"), "p.bmp": encoded(img.convert("P"), format="BMP"),
    "rgb.tga": encoded(img, format="TGA"), "rle.tga": encoded(img, format="TGA", compression="tga_rle"),
    "rgba.tga": encoded(img.convert("RGBA"), format="TGA"),
    "a.ppm": encoded(img, format="PPM"), "a.pgm": encoded(img.convert("L"), format="PPM"),
    "p.gif": encoded(img.convert("P"), format="GIF"), "l.gif": encoded(img.convert("L"), format="GIF"),
}
photos = sample_photos.photos()[:20]
for path in photos:
    with open(path, "rb") as f:
        cases[os.path.basename(path)] = f.read()

bad = 0
for name, data in cases.items():
    ref = pillow(data)
    got, err = ours(data)
    if ref is None or got is None:
        print(f"FAIL {name}: pillow {'error' if ref is None else 'ok'}, imgclass {err or 'ok'}")
        bad += 1
    elif got.shape != ref.shape or not np.array_equal(got, ref):
        print(f"FAIL {name}: pixels differ")
        bad += 1

# Truncated JPEGs: the same verdict as Pillow for every cut near the end
# (where the two could part) and a spread of cuts before.
verdicts = 0
for name in ["q75.jpg", "progressive.jpg", "cmyk.jpg"] + [n for n in cases if n.endswith("JPEG")][:2]:
    data = cases[name]
    n = len(data)
    for cut in sorted(set(list(range(max(0, n - 40), n)) + list(range(0, n, max(1, n // 25))))):
        ref_ok = pillow(data[:cut]) is not None
        got_ok = ours(data[:cut])[0] is not None
        verdicts += 1
        if ref_ok != got_ok:
            print(f"FAIL {name} cut at {cut}/{n}: pillow {'ok' if ref_ok else 'error'}, "
                  f"imgclass {'ok' if got_ok else 'error'}")
            bad += 1

# Truncated BMP, TGA and GIF (stb_image would fill the missing pixels with
# zeros; Pillow refuses them): the same verdict as Pillow for every prefix
# of small files (uncompressed, RLE, palette, LZW with and without the code
# table filling up), and for a spread of cuts of the larger ones.
small = Image.fromarray(rng.integers(0, 256, (11, 13, 3)).astype(np.uint8))
flat = Image.fromarray((np.zeros((11, 13, 3)) + [10, 20, 30]).astype(np.uint8))
wide = Image.fromarray(rng.integers(0, 256, (150, 200, 3)).astype(np.uint8))
prefix_cases = {
    "small.bmp": encoded(small, format="BMP"), "small-p.bmp": encoded(small.convert("P"), format="BMP"),
    "small.tga": encoded(small, format="TGA"),
    "small-rle.tga": encoded(small, format="TGA", compression="tga_rle"),
    "flat-rle.tga": encoded(flat, format="TGA", compression="tga_rle"),
    "small-rgba.tga": encoded(small.convert("RGBA"), format="TGA"),
    "small-p.gif": encoded(small.convert("P"), format="GIF"),
    "small-l.gif": encoded(small.convert("L"), format="GIF"),
    "flat.gif": encoded(flat.convert("P"), format="GIF"),
}
sampled_cases = {name: data for name, data in cases.items()
                 if name.endswith((".bmp", ".tga", ".gif"))}
sampled_cases["noise.gif"] = encoded(wide.convert("P"), format="GIF")  # full code tables
for name, data in list(prefix_cases.items()) + list(sampled_cases.items()):
    n = len(data)
    cuts = range(n) if name in prefix_cases else sorted(
        set(list(range(max(0, n - 40), n)) + list(range(0, n, max(1, n // 150)))))
    for cut in cuts:
        ref_ok = pillow(data[:cut]) is not None
        got, err = ours(data[:cut])
        verdicts += 1
        if ref_ok != (got is not None):
            print(f"FAIL {name} cut at {cut}/{n}: pillow {'ok' if ref_ok else 'error'}, "
                  f"imgclass {err or 'ok'}")
            bad += 1

# A PNG cut inside its empty IDAT chunks (decode_stb.c drops them before
# stb_image sees them): refused, as Pillow refuses it; and whole, the same
# pixels. (Cuts after the image data are another matter: Pillow accepts a
# PNG without its IEND, stb_image does not; see docs/hostile-input.md.)
png = encoded(small, format="PNG")
at = png.index(b"IDAT") - 4
data = with_empty_idat(png)
for cut in range(at, at + 25):
    ref_ok = pillow(data[:cut]) is not None
    got, err = ours(data[:cut])
    verdicts += 1
    if ref_ok != (got is not None):
        print(f"FAIL empty-idat cut at {cut}: pillow {'ok' if ref_ok else 'error'}, "
              f"imgclass {err or 'ok'}")
        bad += 1

print(f"decode parity: {len(cases)} files, {verdicts} truncation verdicts, {bad} failures")
if bad:
    sys.exit(1)
sys.exit(0 if photos else sample_photos.absent_verdict("decode parity"))
