"""imgclass.probe(): format and size from the header, the library's errors."""
import io

import numpy as np
import pytest
from PIL import Image

import imgclass


def encoded(fmt, w=37, h=21):
    buf = io.BytesIO()
    px = (np.arange(w * h * 3) % 251).astype(np.uint8).reshape(h, w, 3)
    Image.fromarray(px).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,name", [("JPEG", "JPEG"), ("PNG", "PNG"), ("BMP", "BMP"),
                                      ("TGA", "TGA"), ("PPM", "PNM"), ("GIF", "GIF")])
def test_formats_from_bytes_and_file(tmp_path, fmt, name):
    data = encoded(fmt)
    assert imgclass.probe(data) == imgclass.ImageInfo(name, 37, 21)
    path = tmp_path / f"x.{fmt.lower()}"
    path.write_bytes(data)
    assert imgclass.probe(path) == (name, 37, 21)
    assert imgclass.probe(str(path)).width == 37


def test_errors_are_the_decodes(tmp_path):
    with pytest.raises(imgclass.UnsupportedError, match="PNM variant P1"):
        imgclass.probe(b"P1\n1 1\n0\n")
    with pytest.raises(imgclass.UnsupportedError):
        imgclass.probe(b"not an image at all")
    with pytest.raises(imgclass.CorruptError):
        imgclass.probe(encoded("PNG")[:20])
    with pytest.raises(imgclass.TooLargeError, match="37x21"):
        imgclass.probe(encoded("PNG"), max_pixels=37 * 21 - 1)
    assert imgclass.probe(encoded("PNG"), max_pixels=None).height == 21
    with pytest.raises(imgclass.IoError, match="missing.png"):
        imgclass.probe(tmp_path / "missing.png")
    with pytest.raises(TypeError):
        imgclass.probe(12)
