"""imgclass.preprocess against torchvision + Pillow, float32 bit for bit."""
import os

import numpy as np
import pytest
from PIL import Image

import imgclass
from conftest import encode, pixels, reference, same_bits, sample_photos


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The parity suite's varied set: sizes, JPEG subsamplings and
    progressive, PNG modes, BMP, GIF, CMYK (test/parity/preprocess_parity.py)."""
    from preprocess_parity import generate
    d = tmp_path_factory.mktemp("parity")
    files, _cmyk = generate(str(d))  # CMYK is outside the exact guarantee
    return files


def test_generated_files_bit_identical(generated):
    assert len(generated) > 40
    got = imgclass.preprocess(generated)
    assert got.shape == (len(generated), 3, 224, 224) and got.dtype == np.float32
    bad = [f for i, f in enumerate(generated) if not same_bits(got[i], reference(f))]
    assert bad == []


@pytest.mark.parametrize("resize,crop", [(256, 224), ((256, 256), 224), (232, (200, 180)),
                                         ((64, 48), None), (None, 100), (300, 320)])
def test_recipes_bit_identical(generated, resize, crop):
    files = generated[::5]
    got = imgclass.preprocess(files, resize, crop)
    for i, f in enumerate(files):
        assert same_bits(got[i], reference(f, resize, crop)), f


@pytest.mark.parametrize("resize,crop", [(256, 224), ((200, 300), (150, 320))])
def test_bicubic_bit_identical(generated, resize, crop):
    files = generated[::4]
    got = imgclass.preprocess(files, resize, crop, interpolation="bicubic")
    for i, f in enumerate(files):
        assert same_bits(got[i], reference(f, resize, crop, "bicubic")), f
    with pytest.raises(ValueError, match="interpolation"):
        imgclass.preprocess(files[:1], interpolation="lanczos")


def test_sample_photos_bit_identical():
    photos = sample_photos()  # fails when they are absent but required
    if not photos:
        pytest.skip("the sample photos are absent here")
    got = imgclass.preprocess(photos)
    bad = [f for i, f in enumerate(photos) if not same_bits(got[i], reference(f))]
    assert bad == []


def test_every_input_type_gives_the_same_bits(tmp_path):
    rgb = pixels(301, 203, 3)
    img = Image.fromarray(rgb)
    path = tmp_path / "x.png"
    img.save(path)
    data = encode(img)
    want = reference(img)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)])
    big = np.zeros((250, 400, 3), np.uint8)
    big[10:213, 20:321] = rgb
    view = big[10:213, 20:321]  # strided rows: borrowed as it is
    assert not view.flags.c_contiguous
    for inp in [str(path), path, data, bytearray(data), memoryview(data), rgb, img, rgba,
                view, np.asfortranarray(rgb), img.convert("RGBA"), img.convert("P")]:
        if isinstance(inp, Image.Image) and inp.mode == "P":
            expect = reference(inp)  # palette quantisation changes the pixels
        else:
            expect = want
        assert same_bits(imgclass.preprocess(inp)[0], expect), type(inp)
    assert same_bits(imgclass.preprocess(bgr, bgr=True)[0], want)
    gray = img.convert("L")
    assert same_bits(imgclass.preprocess(np.asarray(gray))[0], reference(gray))
    assert same_bits(imgclass.preprocess(gray)[0], reference(gray))


def test_writes_into_out_and_threads_agree(generated):
    files = generated[:12]
    out = np.full((len(files), 3, 224, 224), np.nan, np.float32)
    got = imgclass.preprocess(files, out=out, threads=3)
    assert got is out
    one = imgclass.preprocess(files, threads=1)
    assert same_bits(out, one)


def test_out_checked_before_work(generated):
    with pytest.raises(ValueError, match="shape"):
        imgclass.preprocess(generated[:2], out=np.empty((1, 3, 224, 224), np.float32))
    with pytest.raises(TypeError, match="float32"):
        imgclass.preprocess(generated[:1], out=np.empty((1, 3, 224, 224), np.float64))
    with pytest.raises(ValueError, match="C-contiguous"):
        imgclass.preprocess(generated[:1],
                            out=np.empty((1, 3, 224, 448), np.float32)[:, :, :, ::2])


def test_bad_options_raise_before_c():
    with pytest.raises(ValueError, match="std"):
        imgclass.preprocess(pixels(10, 10), std=(1, 0, 1))
    with pytest.raises(ValueError, match="depends"):
        imgclass.preprocess(pixels(10, 10), resize=256, crop=None)
    with pytest.raises(TypeError, match="crop"):
        imgclass.preprocess(pixels(10, 10), crop="224")
    with pytest.raises(ValueError, match="crop"):
        imgclass.preprocess(pixels(10, 10), crop=0)
    with pytest.raises(ValueError, match="no inputs"):
        imgclass.preprocess([])


def test_bad_image_raises_its_error_with_index(images):
    with pytest.raises(imgclass.CorruptError, match=r"input 1: .*truncated\.jpg"):
        imgclass.preprocess([images["a.jpg"], images["truncated.jpg"]])
    with pytest.raises(imgclass.IoError, match="nope.png"):
        imgclass.preprocess(os.path.join(os.path.dirname(images["a.jpg"]), "nope.png"))
    with pytest.raises(imgclass.TooLargeError):
        imgclass.preprocess(images["a.jpg"], max_pixels=1000)
