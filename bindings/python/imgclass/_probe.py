"""imgclass.probe(): an image's format and size from its header alone."""
import ctypes
import os
from typing import NamedTuple, Optional

from . import _lib
from ._errors import check

DEFAULT_MAX_PIXELS = 89478485  # IMGCLASS_DEFAULT_MAX_PIXELS


class ImageInfo(NamedTuple):
    """What the header says: ``format`` ("JPEG", "PNG", "BMP", "GIF", "TGA",
    "PNM" or "PSD"), ``width`` and ``height`` in pixels as decoded."""
    format: str
    width: int
    height: int


def probe(source, max_pixels: Optional[int] = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """The format, width and height of an image file (a path) or of encoded
    bytes (``bytes``, ``bytearray``, ``memoryview``), read from the header
    alone: no pixels are decoded and only a bounded prefix of a file is
    read. The same checks as decoding: an unsupported format raises
    UnsupportedError, a malformed header CorruptError, an image over
    ``max_pixels`` (None or 0: no limit) TooLargeError. A probe that
    succeeds does not promise that the decode will (the body is not read)."""
    d = _lib.lib.imgclass_decode_options_default()
    d.max_pixels = int(max_pixels or 0)
    info = _lib.ImageInfoC()
    info.struct_size = ctypes.sizeof(info)
    if isinstance(source, (str, os.PathLike)):
        check(_lib.lib.imgclass_image_probe(os.fsencode(source), ctypes.byref(d),
                                            ctypes.byref(info)))
    elif isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source).cast("B")
        buf = (ctypes.c_ubyte * len(view)).from_buffer_copy(view) if len(view) else None
        check(_lib.lib.imgclass_image_probe_memory(buf, len(view), ctypes.byref(d),
                                                   ctypes.byref(info)))
    else:
        raise TypeError(f"probe() takes a path or bytes, not {type(source).__name__}")
    name = _lib.lib.imgclass_file_format_name(info.format).decode()
    return ImageInfo(name, info.width, info.height)
