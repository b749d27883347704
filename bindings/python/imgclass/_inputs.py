"""Turning Python inputs into imgclass_input structs without copying pixels.

Accepted inputs (anything else is a TypeError raised before C is called):

- ``str`` or ``os.PathLike``: an image file, decoded by imgclass;
- ``bytes``, ``bytearray``, ``memoryview``: an encoded image in memory
  (a C-contiguous buffer, borrowed for the call);
- ``numpy.ndarray`` of uint8: ``HxW`` (gray), ``HxWx3`` (RGB, or BGR with
  ``bgr=True``) or ``HxWx4`` (RGBA/BGRA, alpha dropped). Rows may be strided
  (a crop of a larger array is borrowed as it is); any other layout is
  copied once into a contiguous array;
- ``PIL.Image.Image``: taken as ``image.convert("RGB")`` (gray "L" images as
  they are), as torchvision's loader does;
- :class:`imgclass.YUVFrame`: a YUV 4:2:0 camera frame, its planes borrowed.
"""
import ctypes
import os
import sys

import numpy as np

from . import _lib
from ._errors import check
from ._lib import lib
from ._yuv import YUVFrame

_FORMATS_RGB = {1: _lib.PIXEL_GRAY, 3: _lib.PIXEL_RGB, 4: _lib.PIXEL_RGBA}
_FORMATS_BGR = {1: _lib.PIXEL_GRAY, 3: _lib.PIXEL_BGR, 4: _lib.PIXEL_BGRA}


def _is_pil_image(obj):
    # Without PIL imported, nothing can be a PIL image: no import needed.
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(obj, pil.Image)


def pil_to_array(image):
    """The pixels of a PIL image as a uint8 array, as torchvision sees them
    after ``convert("RGB")`` (an "L" image stays one channel: replicating it
    is what convert("RGB") does, and imgclass does it on the fly)."""
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    return np.asarray(image)


def check_array(arr, what="array"):
    """Validates a pixel array; returns (array, channels). Raises TypeError
    or ValueError naming the problem."""
    if arr.dtype != np.uint8:
        raise TypeError(f"{what}: pixel arrays must be uint8, got {arr.dtype} "
                        "(convert with arr.astype(numpy.uint8) after scaling to 0..255)")
    if arr.ndim == 2:
        channels = 1
    elif arr.ndim == 3 and arr.shape[2] in (1, 3, 4):
        channels = arr.shape[2]
    else:
        raise ValueError(f"{what}: shape {arr.shape}: expected HxW (gray), HxWx3 (RGB/BGR) "
                         "or HxWx4 (RGBA/BGRA)")
    h, w = arr.shape[0], arr.shape[1]
    if h < 1 or w < 1:
        raise ValueError(f"{what}: shape {arr.shape}: the image is empty")
    if h > 2**31 - 1 or w > 2**31 - 1:
        raise ValueError(f"{what}: shape {arr.shape}: too large")
    return arr, channels


def _rows_borrowable(arr, channels):
    """Whether C can read the array as-is: each row packed, rows at a
    positive stride, and memory that stays put."""
    if arr.ndim == 2:
        packed = arr.strides[1] == 1
    else:
        packed = arr.strides[2] == 1 and arr.strides[1] == channels
    return packed and arr.strides[0] >= arr.shape[1] * channels


def wrap_array(arr, bgr=False, what="array"):
    """(image handle, array kept alive) for a uint8 pixel array; the caller
    frees the handle with imgclass_image_free and keeps the array alive
    until then."""
    arr, channels = check_array(arr, what)
    if not _rows_borrowable(arr, channels):
        arr = np.ascontiguousarray(arr)
    fmt = (_FORMATS_BGR if bgr else _FORMATS_RGB)[channels]
    handle = ctypes.c_void_p()
    check(lib.imgclass_image_wrap(arr.ctypes.data, arr.shape[1], arr.shape[0],
                                  arr.strides[0], fmt, 0, ctypes.byref(handle)))
    return handle, arr


def buffer_array(obj, what="buffer"):
    """A uint8 view of an encoded image held in bytes/bytearray/memoryview."""
    try:
        return np.frombuffer(obj, dtype=np.uint8)
    except (ValueError, BufferError) as e:
        raise ValueError(f"{what}: the buffer must be C-contiguous ({e})") from None


def describe(obj):
    """A short name of an input for messages."""
    if isinstance(obj, (str, os.PathLike)):
        return os.fsdecode(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return f"{type(obj).__name__} of {len(obj)} bytes"
    if isinstance(obj, np.ndarray):
        return f"array {obj.shape} {obj.dtype}"
    if isinstance(obj, YUVFrame):
        return f"YUVFrame {obj.layout} {obj.width}x{obj.height}"
    return type(obj).__name__


class Prepared:
    """C inputs for a list of Python inputs, with everything they point to
    kept alive until close()."""

    def __init__(self, inputs, bgr=False):
        self.count = len(inputs)
        self.c = (_lib.InputC * self.count)()
        for slot in self.c:  # the library strides the array by it
            slot.struct_size = ctypes.sizeof(_lib.InputC)
        self._keep = []
        self._images = []
        try:
            for i, obj in enumerate(inputs):
                self._fill(self.c[i], obj, bgr, i)
        except BaseException:
            self.close()
            raise

    def _fill(self, slot, obj, bgr, i):
        what = f"input {i}"
        if isinstance(obj, (str, os.PathLike)):
            path = os.fsencode(obj)
            if b"\0" in path:
                raise ValueError(f"{what}: the path contains a NUL byte")
            slot.kind = _lib.INPUT_PATH
            slot.path = path
            self._keep.append(path)
        elif isinstance(obj, (bytes, bytearray, memoryview)):
            buf = buffer_array(obj, what)
            slot.kind = _lib.INPUT_MEMORY
            slot.data = buf.ctypes.data if buf.size else None
            slot.size = buf.size
            self._keep.append(buf)
        elif isinstance(obj, np.ndarray):
            self._image(slot, obj, bgr, what)
        elif _is_pil_image(obj):
            self._image(slot, pil_to_array(obj), False, what)
        elif isinstance(obj, YUVFrame):
            # C borrows the planes: the frame holds them, this keeps the frame.
            handle = obj.wrap()
            self._images.append(handle)
            self._keep.append(obj)
            slot.kind = _lib.INPUT_IMAGE
            slot.image = handle
        else:
            raise TypeError(f"{what}: cannot classify a {type(obj).__name__}: expected a path "
                            "(str, os.PathLike), bytes/bytearray/memoryview of an encoded "
                            "image, a uint8 numpy array, a PIL.Image or an imgclass.YUVFrame")

    def _image(self, slot, arr, bgr, what):
        handle, arr = wrap_array(arr, bgr, what)
        self._images.append(handle)
        self._keep.append(arr)
        slot.kind = _lib.INPUT_IMAGE
        slot.image = handle

    def close(self):
        for h in self._images:
            lib.imgclass_image_free(h)
        self._images = []
        self._keep = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
