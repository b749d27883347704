"""imgclass.YUVFrame against OpenCV, as test/parity/yuv_parity.py does for
the C API: cv2.cvtColor(frame, COLOR_YUV2RGB_<layout>) and then the same
preprocessing from RGB must give the binding's YUV path bit for bit, for
NV12, NV21, I420 and YV12, even and odd sizes, with saturated chroma.

OpenCV refuses odd sizes: an odd frame is the top-left part of the next
even frame with the same planes (its last chroma sample per row and column
covers one pixel instead of two), given as the even frame's planes with
width= and height= (padded rows) and as tight copies. Without cv2 these
tests FAIL: python3-opencv is a dependency (tools/deps.sh)."""
import gc

import numpy as np
import pytest
from PIL import Image

import imgclass
from conftest import reference, same_bits

try:
    import cv2
except ImportError:  # failed in the fixture, by every test that needs it
    cv2 = None

LAYOUTS = ("nv12", "nv21", "i420", "yv12")
SIZES = [(2, 2), (64, 48), (226, 302), (1, 1), (3, 5), (17, 9), (225, 301)]


@pytest.fixture(scope="module")
def cv():
    if cv2 is None:
        pytest.fail("python3-opencv (cv2) is not installed: the YUV parity tests need it "
                    "(apt-get install python3-opencv, see tools/deps.sh)", pytrace=False)
    return cv2


def code(cv, layout):
    return {"nv12": cv.COLOR_YUV2RGB_NV12, "nv21": cv.COLOR_YUV2RGB_NV21,
            "i420": cv.COLOR_YUV2RGB_I420, "yv12": cv.COLOR_YUV2RGB_YV12}[layout]


def even_frame(r, w, h, smooth=False):
    """An even frame as cv2 takes it, (h * 3 / 2, w) bytes, whose chroma is
    half saturated (0..3 and 252..255: the clamps of every channel) and
    half random; luma random (also below 16 and above 235), or smooth."""
    buf = r.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8)
    if smooth:
        yy, xx = np.mgrid[0:h, 0:w]
        buf[:h] = np.clip(128 + 100 * np.sin(xx / 13.0 + yy / 7.0) + r.integers(-20, 21, (h, w)),
                          0, 255).astype(np.uint8)
    chroma = buf[h:].reshape(-1)
    sat = r.integers(0, 2, chroma.size).astype(bool)
    chroma[sat] = np.where(r.integers(0, 2, sat.sum()).astype(bool),
                           r.integers(0, 4, sat.sum()), r.integers(252, 256, sat.sum()))
    return buf


def planes_of(layout, buf, w, h):
    """Y and chroma planes of an even w x h frame stored as cv2 takes it:
    NV: (y, uv); I420/YV12: (y, u, v) whatever the storage order."""
    flat = buf.reshape(-1)
    y = flat[:w * h].reshape(h, w)
    if layout in ("nv12", "nv21"):
        return y, flat[w * h:].reshape(h // 2, w)
    c = (w // 2) * (h // 2)
    first = flat[w * h:w * h + c].reshape(h // 2, w // 2)
    second = flat[w * h + c:].reshape(h // 2, w // 2)
    return (y, first, second) if layout == "i420" else (y, second, first)


def frames(layout, buf, w, h):
    """(how, YUVFrame) of the w x h frame in every form the binding takes."""
    ew, eh = w + (w & 1), h + (h & 1)
    cw, ch = (w + 1) // 2, (h + 1) // 2
    p = planes_of(layout, buf, ew, eh)

    def make(y, *chroma, **kw):
        if len(chroma) == 1:
            return imgclass.YUVFrame(y, uv=chroma[0], layout=layout, **kw)
        return imgclass.YUVFrame(y, u=chroma[0], v=chroma[1], layout=layout, **kw)

    out = [("planes", make(*p, width=w, height=h))]
    if (w, h) == (ew, eh):
        out.append(("buffer (cv2 shape)", imgclass.YUVFrame(buf, layout=layout)))
        if layout in ("nv12", "nv21"):
            out.append(("uv as (rows, cols, 2)",
                        make(p[0], p[1].reshape(eh // 2, ew // 2, 2))))
    else:
        tight_y = np.ascontiguousarray(p[0][:h, :w])
        if len(p) == 2:
            tight = [np.ascontiguousarray(p[1][:ch, :2 * cw])]
        else:
            tight = [np.ascontiguousarray(c[:ch, :cw]) for c in p[1:]]
        out.append(("tight planes", make(tight_y, *tight)))
        stored = tight if layout != "yv12" else tight[::-1]  # YV12 stores V first
        data = b"".join(a.tobytes() for a in [tight_y] + stored)
        out.append(("tight bytes", imgclass.YUVFrame(data, width=w, height=h, layout=layout)))
    out.append(("fortran-ordered y (copied)", make(np.asfortranarray(p[0]), *p[1:],
                                                   width=w, height=h)))
    return out


def identity(w, h):
    """No resize, no crop, mean 0, std 1: ToTensor's v / 255 of each byte."""
    return imgclass.PreprocessOptions(resize=None, crop=(h, w), mean=(0, 0, 0), std=(1, 1, 1))


def as_tensor(rgb):
    return (rgb.astype(np.float32) / np.float32(255)).transpose(2, 0, 1)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_bit_identical_to_cvtcolor(cv, layout):
    r = np.random.default_rng(LAYOUTS.index(layout))
    for w, h in SIZES:
        ew, eh = w + (w & 1), h + (h & 1)
        buf = even_frame(r, ew, eh)
        rgb = np.ascontiguousarray(cv.cvtColor(buf, code(cv, layout))[:h, :w])
        want = as_tensor(rgb)
        from_rgb = imgclass.preprocess(rgb, options=identity(w, h))[0]
        assert same_bits(from_rgb, want)
        for how, frame in frames(layout, buf, w, h):
            got = imgclass.preprocess(frame, options=identity(w, h))[0]
            assert same_bits(got, want), f"{layout} {w}x{h} {how}: " \
                f"{int((got != want).sum())} values differ from cv2.cvtColor"


@pytest.mark.parametrize("layout,size", [("nv12", (640, 480)), ("nv21", (481, 641)),
                                         ("i420", (301, 255)), ("yv12", (1280, 720))])
def test_through_a_model_recipe(cv, recipe_model, layout, size):
    """A frame through the model's own recipe (Resize 320 bicubic,
    CenterCrop 300, its mean/std): torchvision on cv2's RGB, bit for bit,
    by every door that takes an input."""
    from imgclass.torch import Transform
    w, h = size
    ew, eh = w + (w & 1), h + (h & 1)
    buf = even_frame(np.random.default_rng(w), ew, eh, smooth=True)
    rgb = np.ascontiguousarray(cv.cvtColor(buf, code(cv, layout))[:h, :w])
    frame = frames(layout, buf, w, h)[0][1]
    with imgclass.Model(recipe_model) as m:
        o = m.preprocess_options
        want = reference(Image.fromarray(rgb), o.resize, o.crop, o.interpolation, o.mean, o.std)
        assert same_bits(m.preprocess(frame)[0], want)
        assert same_bits(Transform.from_model(m)(frame).numpy(), want)
        got = m.classify([frame, rgb])
        assert got[0].ok and same_bits(got[0].scores, got[1].scores)
        assert same_bits(m.predict(want[None])[0], got[0].scores)
        with m.pipeline(batch=2) as pipe:
            fut = pipe.submit(frame)
            assert fut.result().input is frame
            assert same_bits(fut.result().scores, got[0].scores)
            assert same_bits(next(pipe.map([frame])).scores, got[0].scores)


def test_planes_stay_alive_while_the_pipeline_holds_them(recipe_model):
    """C borrows the planes: a frame whose planes exist nowhere else (one
    bytes buffer, dropped by the caller at once) is still read right when
    the pipeline gets to it, after a flush and with garbage made between."""
    w, h = 320, 240
    buf = even_frame(np.random.default_rng(5), w, h, smooth=True)
    with imgclass.Model(recipe_model) as m:
        want = m.classify(imgclass.YUVFrame(buf.copy(), layout="i420"))[0].scores
        with m.pipeline(batch=4, max_delay_ms=None) as pipe:  # waits for the flush
            futures = [pipe.submit(imgclass.YUVFrame(buf.tobytes(), width=w, height=h,
                                                     layout="i420")) for _ in range(3)]
            gc.collect()
            junk = [np.full(w * h * 3 // 2, 255, np.uint8) for _ in range(50)]
            pipe.flush()
            del junk
        assert all(same_bits(f.result().scores, want) for f in futures)


def test_matrix_and_range_reach_the_library():
    """BT.709 and full range (no OpenCV counterpart; test/parity/yuv_parity.py
    checks the fixed-point formula): each name gives its own conversion,
    within 1 level of the standard's real-valued formula."""
    r = np.random.default_rng(9)
    w, h = 64, 32
    buf = r.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8)
    y, u, v = planes_of("i420", buf, w, h)
    Y = y.astype(np.float64)
    U = np.repeat(np.repeat(u.astype(np.float64), 2, 0), 2, 1) - 128
    V = np.repeat(np.repeat(v.astype(np.float64), 2, 0), 2, 1) - 128
    seen = []
    for matrix, (kr, kb) in (("bt601", (0.299, 0.114)), ("bt709", (0.2126, 0.0722))):
        for rng in ("limited", "full"):
            kg = 1 - kr - kb
            s, cy, off = (1.0, 1.0, 0) if rng == "full" else (255 / 224, 255 / 219, 16)
            yy = np.maximum(Y - off, 0) * cy
            real = np.stack([yy + 2 * (1 - kr) * s * V,
                             yy - 2 * kr * (1 - kr) / kg * s * V - 2 * kb * (1 - kb) / kg * s * U,
                             yy + 2 * (1 - kb) * s * U]).clip(0, 255)
            frame = imgclass.YUVFrame(y, u=u, v=v, matrix=matrix, range=rng)
            got = imgclass.preprocess(frame, options=identity(w, h))[0]
            assert np.abs(np.round(got * 255) - real).max() <= 1.0, (matrix, rng)
            seen.append(got)
    assert all(not np.array_equal(a, b) for i, a in enumerate(seen) for b in seen[i + 1:])


def test_frame_mistakes():
    y = np.zeros((4, 6), np.uint8)
    uv = np.zeros((2, 6), np.uint8)
    c = np.zeros((2, 3), np.uint8)
    cases = [
        (lambda: imgclass.YUVFrame(y.astype(np.float32), uv=uv), TypeError, "uint8"),
        (lambda: imgclass.YUVFrame(y[0], uv=uv), ValueError, "2-D"),
        (lambda: imgclass.YUVFrame(y, uv=uv[:1]), ValueError, "uv plane is 1x6"),
        (lambda: imgclass.YUVFrame(y, u=c[:, :2], v=c), ValueError, "u plane"),
        (lambda: imgclass.YUVFrame(y, uv=uv, u=c, v=c), ValueError, "not both"),
        (lambda: imgclass.YUVFrame(y, u=c), ValueError, "both u and v"),
        (lambda: imgclass.YUVFrame(y, uv=uv, layout="i420"), ValueError, "layout"),
        (lambda: imgclass.YUVFrame(y, u=c, v=c, layout="nv12"), ValueError, "layout"),
        (lambda: imgclass.YUVFrame(y, uv=uv, matrix="bt2020"), ValueError, "matrix"),
        (lambda: imgclass.YUVFrame(y, uv=uv, range="studio"), ValueError, "range"),
        (lambda: imgclass.YUVFrame(y, uv=uv, width=7), ValueError, "y plane"),
        (lambda: imgclass.YUVFrame(y, uv=uv, width=0), ValueError, "width"),
        (lambda: imgclass.YUVFrame(bytes(35), width=6, height=4), ValueError, "36 bytes"),
        (lambda: imgclass.YUVFrame(bytes(36)), ValueError, "width= and height="),
        (lambda: imgclass.YUVFrame(np.zeros((5, 6), np.uint8)), ValueError, "width= and"),
        (lambda: imgclass.YUVFrame(3.5, width=2, height=2), TypeError, "buffer"),
    ]
    for make, exc, words in cases:
        with pytest.raises(exc, match=words):
            make()
    f = imgclass.YUVFrame(y, uv=uv)
    assert (f.width, f.height, f.layout) == (6, 4, "nv12")
    assert "YUVFrame nv12 6x4" in repr(imgclass.Result(f, [], None, "x", -1))
