#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (run by run.sh):
    seeds.py OUT_DIR [MODELS_DIR]
OUT_DIR/<target>/ gets small valid inputs of every kind the target reads,
so the fuzzer starts from deep inside each parser. Everything is generated
(seeded), nothing is checked in."""
import gzip
import io
import os
import struct
import sys
import zipfile
import zlib

import numpy as np
from PIL import Image

out = sys.argv[1]
models = sys.argv[2] if len(sys.argv) > 2 else ""


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def enc(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


rng = np.random.default_rng(1)
img = Image.fromarray(rng.integers(0, 256, (23, 31, 3)).astype(np.uint8))
images = {
    "a.jpg": enc(img, "JPEG"), "p.jpg": enc(img, "JPEG", progressive=True),
    "g.jpg": enc(img.convert("L"), "JPEG"), "c.jpg": enc(img.convert("CMYK"), "JPEG"),
    "444.jpg": enc(img, "JPEG", subsampling=0),
    "a.png": enc(img.convert("RGBA"), "PNG"), "p.png": enc(img.convert("P"), "PNG"),
    "l.png": enc(img.convert("L"), "PNG"), "i16.png": enc(img.convert("I"), "PNG"),
    "i.png": enc(img, "PNG", optimize=True),
    "a.bmp": enc(img, "BMP"), "p.bmp": enc(img.convert("P"), "BMP"),
    "a.gif": enc(img.convert("P"), "GIF"),
    "a.tga": enc(img, "TGA"), "r.tga": enc(img, "TGA", compression="tga_rle"),
    "a.ppm": enc(img, "PPM"), "a.pgm": enc(img.convert("L"), "PPM"),
}
# EXIF orientation (read with exif_transpose): a rotation and a flip.
for tag, fmt in ((6, "JPEG"), (2, "PNG")):
    exif = Image.Exif()
    exif[0x0112] = tag
    images[f"exif{tag}.{fmt.lower()}"] = enc(img, fmt, exif=exif.tobytes())
# Empty IDAT chunks before the image data: stb_image once did arithmetic on
# a NULL buffer there (UBSan, found by the long decode campaign).
png = images["i.png"]
at = png.index(b"IDAT") - 4
images["empty-idat.png"] = png[:at] + b"\0\0\0\0IDAT" + struct.pack(">I", zlib.crc32(b"IDAT")) + png[at:]
images["empty-idat-cut.png"] = png[:at] + b"\0\0\0\0IDAT\x35"  # cut in its CRC
# An 8-bit RGB PSD (raw) and a BMP with RLE8, which Pillow cannot write.
w, h = 5, 4
psd = (b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, h, w, 8, 3) + struct.pack(">III", 0, 0, 0)
       + struct.pack(">H", 0) + bytes(rng.integers(0, 256, 3 * w * h).astype(np.uint8)))
images["a.psd"] = psd
rle = b"\x04\x01\x02\x02\x00\x00" * h + b"\x00\x01"
palette = bytes(range(256)) * 4
bmp_hdr = struct.pack("<IiiHHIIiiII", 40, 6, h, 1, 8, 1, len(rle), 0, 0, 256, 0)
off = 14 + 40 + len(palette)
images["rle8.bmp"] = b"BM" + struct.pack("<IHHI", off + len(rle), 0, 0, off) + bmp_hdr + palette + rle
for name, data in images.items():
    put("decode", name, data)
    put("image", name, data)

labels = {
    "plain.txt": b"cat\ndog\nbird\n",
    "synset.txt": b"n01440764 tench, Tinca tinca\nn01443537 goldfish\n",
    "crlf.txt": b"a\r\nb\r\n\r\nc\r\n",
    "pairs.json": b'{"0": ["n01440764", "tench"], "1": ["n01443537", "goldfish"]}',
    "strings.json": b'\xef\xbb\xbf{"0": "a", "1": "b", "2": "c"}',
    "escapes.json": b'{"1": "x\\u00e9\\"y", "0": "{,}"}',
}
for name, data in list(labels.items()):
    labels[name + ".gz"] = gzip.compress(data)
for name, data in labels.items():
    put("labels", name, data)

blobs = [b"", b"hello", bytes(5000), bytes(range(256)) * 40, b"PK\x03\x04" + bytes(100)]
for i, data in enumerate(blobs):
    put("gzip", f"m{i}.gz", gzip.compress(data))
put("gzip", "two-members.gz", gzip.compress(b"ab") + gzip.compress(b"cd"))
put("gzip", "padded.gz", gzip.compress(b"abc") + bytes(64))

# serve_v2: byte 0 bit 0 set: binary data after the JSON, whose length is
# bytes 1-2 (little-endian); else the whole body is JSON.
def v2(name, js, binary=b""):
    j = js.encode()
    if binary:
        put("serve_v2", name, bytes([1]) + struct.pack("<H", len(j)) + j + binary)
    else:
        put("serve_v2", name, bytes([0, 0, 0]) + j)


v2("fp32.json", '{"id": "a", "inputs": [{"name": "input", "datatype": "FP32", "shape": '
                '[1, 3, 2, 2], "data": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12.5]}], '
                '"outputs": [{"name": "output", "parameters": {"classification": 2}}]}')
v2("nested.json", '{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3, 2, 2], '
                  '"data": [[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]]}]}')
v2("bytes.json", '{"inputs": [{"name": "image", "datatype": "BYTES", "shape": [2], '
                 '"data": ["Zm9v", "YmFyIQ=="]}], "parameters": {"binary_data_output": true}}')
v2("fp32.bin", '{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 2, 2], '
               '"parameters": {"binary_data_size": 48}}], "outputs": [{"name": "output", '
               '"parameters": {"binary_data": true}}]}', struct.pack("<12f", *range(12)))
v2("bytes.bin", '{"inputs": [{"name": "image", "datatype": "BYTES", "shape": [2], '
                '"parameters": {"binary_data_size": 13}}]}',
   struct.pack("<I", 3) + b"abc" + struct.pack("<I", 2) + b"de")

z = io.BytesIO()
with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as f:
    f.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    f.writestr("archive/version", b"3\n")
put("model", "tiny.zip", z.getvalue())
put("model", "tiny.zip.gz", gzip.compress(z.getvalue()))
put("model", "text", b"not a model\n")
if models and os.path.isfile(os.path.join(models, "tiny.pt")):
    with open(os.path.join(models, "tiny.pt"), "rb") as f:
        tiny = f.read()
    put("model", "tiny.pt", tiny)
    put("model", "tiny.pt.gz", gzip.compress(tiny))
