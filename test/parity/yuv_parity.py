"""YUV 4:2:0 frames (imgclass_image_wrap_yuv) against OpenCV's cvtColor.

For every layout (NV12, NV21, I420, YV12) and several even and odd sizes,
random planes (every value, so saturation and Y below 16 occur) are wrapped
and preprocessed with no resize, no crop, mean 0 and std 1, which gives
ToTensor's v / 255 of each RGB byte; those floats must equal, bit for bit,
np.float32(cv2.cvtColor(frame, COLOR_YUV2RGB_<layout>)) / 255.
OpenCV refuses odd sizes; an odd frame is checked as the top-left part of
the next even frame with the same planes (its last chroma sample per row
and column covers one pixel instead of two), with padded and tight strides.
BT.709 and full range (no OpenCV counterpart) are checked against the same
fixed-point formula in numpy and to be within 1 of the exact real formula.
Then a frame goes through the default recipe (Resize 256, CenterCrop 224,
ImageNet Normalize) and must equal torchvision on Image.fromarray(cv2 RGB).

usage: yuv_parity.py LIBIMGCLASS_SO       exit 0 pass, 1 fail

OpenCV is the reference, so it is a test dependency (tools/deps.sh installs
python3-opencv): without it the test fails, it does not skip.
"""
import ctypes
import sys

import numpy as np

try:
    import cv2
except ImportError as e:
    print(f"FAIL: yuv parity: cannot import cv2 ({e}); the reference is OpenCV: "
          "install python3-opencv (sh tools/deps.sh)")
    sys.exit(1)
import torch  # noqa: F401  (torchvision needs it)
from PIL import Image
from torchvision import transforms as T

NV12, NV21, I420, YV12 = 5, 6, 7, 8
CV_CODE = {NV12: cv2.COLOR_YUV2RGB_NV12, NV21: cv2.COLOR_YUV2RGB_NV21,
           I420: cv2.COLOR_YUV2RGB_I420, YV12: cv2.COLOR_YUV2RGB_YV12}
NAME = {NV12: "NV12", NV21: "NV21", I420: "I420", YV12: "YV12"}


class YuvFrame(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t),
                ("layout", ctypes.c_int), ("width", ctypes.c_int), ("height", ctypes.c_int),
                ("planes", ctypes.c_void_p * 3), ("strides", ctypes.c_size_t * 3),
                ("matrix", ctypes.c_int), ("range", ctypes.c_int)]


class PreprocessOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t),
                ("resize_mode", ctypes.c_int), ("resize_size", ctypes.c_int),
                ("resize_width", ctypes.c_int), ("resize_height", ctypes.c_int),
                ("crop_width", ctypes.c_int), ("crop_height", ctypes.c_int),
                ("mean", ctypes.c_float * 3), ("std", ctypes.c_float * 3),
                ("fast", ctypes.c_int), ("interpolation", ctypes.c_int)]


lib = ctypes.CDLL(sys.argv[1])
lib.imgclass_yuv_frame_init.argtypes = [ctypes.POINTER(YuvFrame), ctypes.c_size_t]
lib.imgclass_preprocess_options_init.argtypes = [ctypes.POINTER(PreprocessOptions),
                                                 ctypes.c_size_t]


def defaults(cls, init):
    """A struct filled by the library's *_init with this script's size (the
    header's *_default() are inline functions, not exported)."""
    s = cls()
    if init(ctypes.byref(s), ctypes.sizeof(s)) != 0:
        sys.exit("FAIL: %s: %s" % (init.__name__, lib.imgclass_last_error().decode()))
    return s


lib.imgclass_image_wrap_yuv.argtypes = [ctypes.POINTER(YuvFrame), ctypes.c_int,
                                        ctypes.POINTER(ctypes.c_void_p)]
lib.imgclass_image_free.argtypes = [ctypes.c_void_p]
lib.imgclass_batch_wrap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                                    ctypes.c_int, ctypes.POINTER(ctypes.c_void_p)]
lib.imgclass_batch_free.argtypes = [ctypes.c_void_p]
lib.imgclass_preprocess.argtypes = [ctypes.c_void_p, ctypes.POINTER(PreprocessOptions),
                                    ctypes.c_void_p, ctypes.c_size_t]
lib.imgclass_last_error.restype = ctypes.c_char_p
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def planes_of(layout, buf, w, h):
    """The planes of an even w x h frame stored contiguously in buf (the
    (h * 3 / 2, w) array cvtColor takes), in the layout's storage order."""
    flat = buf.reshape(-1)
    y = flat[:w * h].reshape(h, w)
    if layout in (NV12, NV21):
        return [y, flat[w * h:].reshape(h // 2, w)]
    c = (w // 2) * (h // 2)
    return [y, flat[w * h:w * h + c].reshape(h // 2, w // 2),
            flat[w * h + c:].reshape(h // 2, w // 2)]


def run(layout, w, h, planes, opts, matrix=0, rng=0, copy=0):
    """Preprocesses the frame; returns the (3, oh, ow) float32 result."""
    keep = planes  # row-strided views are fine: each row is contiguous
    f = defaults(YuvFrame, lib.imgclass_yuv_frame_init)
    f.layout, f.width, f.height, f.matrix, f.range = layout, w, h, matrix, rng
    for i, p in enumerate(keep):
        f.planes[i] = p.ctypes.data
        f.strides[i] = p.strides[0]
    img = ctypes.c_void_p()
    if lib.imgclass_image_wrap_yuv(ctypes.byref(f), copy, ctypes.byref(img)) != 0:
        raise RuntimeError(lib.imgclass_last_error().decode())
    oh = opts.crop_height or h
    ow = opts.crop_width or w
    out = np.zeros((3, oh, ow), np.float32)
    batch = ctypes.c_void_p()
    assert lib.imgclass_batch_wrap(out.ctypes.data, 1, oh, ow, ctypes.byref(batch)) == 0
    st = lib.imgclass_preprocess(img, ctypes.byref(opts), batch, 0)
    lib.imgclass_batch_free(batch)
    lib.imgclass_image_free(img)
    if st != 0:
        raise RuntimeError(lib.imgclass_last_error().decode())
    return out


def identity_options(w, h):
    o = defaults(PreprocessOptions, lib.imgclass_preprocess_options_init)
    o.resize_mode = 2  # NONE
    o.crop_width, o.crop_height = w, h
    for c in range(3):
        o.mean[c], o.std[c] = 0.0, 1.0
    return o


def as_tensor(rgb):
    return (rgb.astype(np.float32) / np.float32(255)).transpose(2, 0, 1)


def tight(planes, w, h, layout):
    """Copies of the planes with rows cut to the odd frame's tight sizes."""
    cw, ch = (w + 1) // 2, (h + 1) // 2
    out = [np.ascontiguousarray(planes[0][:h, :w])]
    if layout in (NV12, NV21):
        out.append(np.ascontiguousarray(planes[1][:ch, :2 * cw]))
    else:
        out += [np.ascontiguousarray(p[:ch, :cw]) for p in planes[1:]]
    return out


def check_opencv(r):
    sizes = [(2, 2), (4, 2), (2, 6), (16, 10), (64, 48), (640, 480), (226, 302),
             (1, 1), (3, 3), (1, 4), (5, 2), (17, 9), (33, 65), (225, 301), (639, 479)]
    for layout in (NV12, NV21, I420, YV12):
        before = failures
        for w, h in sizes:
            ew, eh = w + (w & 1), h + (h & 1)
            buf = r.integers(0, 256, (eh * 3 // 2, ew), dtype=np.uint8)
            want = cv2.cvtColor(buf, CV_CODE[layout])[:h, :w]
            planes = planes_of(layout, buf, ew, eh)
            variants = [("strided", planes)]
            if (w, h) != (ew, eh):
                variants.append(("tight", tight(planes, w, h, layout)))
            for how, pl in variants:
                for copy in (0, 1):
                    got = run(layout, w, h, pl, identity_options(w, h), copy=copy)
                    ref = as_tensor(want)
                    if not np.array_equal(got.view(np.uint32), ref.view(np.uint32)):
                        bad = int((got != ref).sum())
                        fail(f"{NAME[layout]} {w}x{h} {how} copy={copy}: {bad} of {ref.size} "
                             "values differ from cv2.cvtColor")
        if failures == before:
            print(f"{NAME[layout]}: {len(sizes)} sizes (odd ones padded and tight), "
                  "bit-identical to cv2.cvtColor")


# Our coefficients (lib/yuv.c) for the variants OpenCV lacks, and the real
# ones they approximate.
def exact(kr, kb, full):
    kg = 1 - kr - kb
    s = 1.0 if full else 255 / 224
    return (1.0 if full else 255 / 219, 2 * (1 - kr) * s, -2 * kr * (1 - kr) / kg * s,
            -2 * kb * (1 - kb) / kg * s, 2 * (1 - kb) * s)


def check_other_matrices(r):
    w, h = 64, 32
    buf = r.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8)
    planes = planes_of(I420, buf, w, h)
    Y = planes[0].astype(np.int64)
    U = np.repeat(np.repeat(planes[1].astype(np.int64), 2, 0), 2, 1) - 128
    V = np.repeat(np.repeat(planes[2].astype(np.int64), 2, 0), 2, 1) - 128
    for matrix, (kr, kb) in ((0, (0.299, 0.114)), (1, (0.2126, 0.0722))):
        for rng in (0, 1):
            if (matrix, rng) == (0, 0):
                continue
            cy, cvr, cvg, cug, cub = exact(kr, kb, rng)
            k = [int(round(c * (1 << 20))) for c in (cy, cvr, cvg, cug, cub)]
            off = 0 if rng else 16
            yy = np.maximum(Y - off, 0)
            fixed = np.stack([(yy * k[0] + (1 << 19) + k[1] * V) >> 20,
                              (yy * k[0] + (1 << 19) + k[2] * V + k[3] * U) >> 20,
                              (yy * k[0] + (1 << 19) + k[4] * U) >> 20], -1).clip(0, 255)
            real = np.stack([yy * cy + cvr * V, yy * cy + cvg * V + cug * U,
                             yy * cy + cub * U], -1).clip(0, 255)
            got = run(I420, w, h, planes, identity_options(w, h), matrix, rng)
            name = ("BT.601", "BT.709")[matrix] + (" limited", " full")[rng]
            before = failures
            if not np.array_equal(got, as_tensor(fixed.astype(np.uint8))):
                fail(f"{name}: differs from the fixed-point formula")
            err = np.abs(np.round(got * 255).transpose(1, 2, 0) - real).max()
            if err > 1.0:
                fail(f"{name}: {err:.3f} levels from the exact formula (over 1)")
            if failures == before:
                print(f"{name}: fixed-point formula exact, at most {err:.3f} levels from the "
                      "real-valued one")


def check_recipe(r):
    """Conversion inside the resize: equal to torchvision on cv2's RGB."""
    ref_tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    before = failures
    for layout, (w, h) in ((NV12, (640, 480)), (NV21, (481, 641)), (I420, (301, 255)),
                           (YV12, (1280, 720))):
        ew, eh = w + (w & 1), h + (h & 1)
        yx, xx = np.mgrid[0:eh * 3 // 2, 0:ew]
        smooth = (128 + 100 * np.sin(xx / 13.0 + yx / 7.0)).astype(np.int64)
        buf = np.clip(smooth + r.integers(-20, 21, smooth.shape), 0, 255).astype(np.uint8)
        rgb = cv2.cvtColor(buf, CV_CODE[layout])[:h, :w]
        want = ref_tf(Image.fromarray(np.ascontiguousarray(rgb))).numpy()
        got = run(layout, w, h, planes_of(layout, buf, ew, eh),
                  defaults(PreprocessOptions, lib.imgclass_preprocess_options_init))
        if not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
            fail(f"{NAME[layout]} {w}x{h} through Resize(256)+CenterCrop(224): "
                 f"{int((got != want).sum())} values differ from torchvision")
    if failures == before:
        print("default recipe on 4 frames: bit-identical to torchvision on cv2's RGB")


def check_errors():
    f = defaults(YuvFrame, lib.imgclass_yuv_frame_init)
    img = ctypes.c_void_p()
    buf = np.zeros(64, np.uint8)
    f.width = f.height = 4
    f.planes[0] = buf.ctypes.data
    cases = [("NULL chroma plane", {}, "NULL UV plane"),
             ("bad layout", {"layout": 0}, "not NV12"),
             ("zero size", {"width": 0}, "size 0x4"),
             ("short stride", {"strides": (2, 0, 0)}, "stride 2"),
             ("bad matrix", {"matrix": 9}, "unknown matrix")]
    before = failures
    for what, change, words in cases:
        g = YuvFrame.from_buffer_copy(f)
        if what != "NULL chroma plane":
            g.planes[1] = buf.ctypes.data + 16
        for k, v in change.items():
            if k == "strides":
                for i, s in enumerate(v):
                    g.strides[i] = s
            else:
                setattr(g, k, v)
        st = lib.imgclass_image_wrap_yuv(ctypes.byref(g), 0, ctypes.byref(img))
        msg = lib.imgclass_last_error().decode()
        if st != -1 or words not in msg or img.value:
            fail(f"{what}: status {st}, message {msg!r}")
    if failures == before:
        print(f"{len(cases)} bad frames refused with a message")


def main():
    r = np.random.default_rng(17)
    check_opencv(r)
    check_other_matrices(r)
    check_recipe(r)
    check_errors()
    if failures:
        print(f"yuv parity: {failures} failure(s)")
        return 1
    print("yuv parity: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
