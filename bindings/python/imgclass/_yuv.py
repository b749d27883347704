"""imgclass.YUVFrame: a YUV 4:2:0 camera frame (NV12, NV21, I420, YV12) as an
input, converted to RGB by the C library as it preprocesses
(imgclass_image_wrap_yuv), bit for bit as OpenCV's cvtColor does for BT.601
limited range.

A frame borrows its planes: the C image made from it reads them in place,
so the frame object holds every array C may read (a plane that had to be
copied, a view of a single buffer) and the binding keeps the frame alive
until the C image is freed (after classify returns, or after a pipeline
delivered the input's result). Do not write into the planes meanwhile.
"""
import ctypes

import numpy as np

from . import _lib
from ._errors import check
from ._lib import lib


def _choice(value, table, name):
    if not isinstance(value, str) or value.lower() not in table:
        raise ValueError(f"YUVFrame: {name} must be one of {', '.join(table)}, got {value!r}")
    return value.lower()


def _plane(arr, name, rows, cols):
    """A uint8 2-D plane of at least rows x cols whose rows C can read in
    place (each row packed, a positive row stride); others are copied once."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"YUVFrame: the {name} plane must be a numpy uint8 array, got "
                        f"{type(arr).__name__}")
    if arr.dtype != np.uint8:
        raise TypeError(f"YUVFrame: the {name} plane must be uint8, got {arr.dtype}")
    if name == "uv" and arr.ndim == 3 and arr.shape[2] == 2:
        arr = arr.reshape(arr.shape[0], -1)  # a view when each row is packed, else a copy
    if arr.ndim != 2:
        raise ValueError(f"YUVFrame: the {name} plane must be 2-D (rows, bytes per row), got "
                         f"shape {arr.shape}")
    if arr.shape[0] < rows or arr.shape[1] < cols:
        raise ValueError(f"YUVFrame: the {name} plane is {arr.shape[0]}x{arr.shape[1]} "
                         f"(rows x bytes), a {name} plane of this frame needs at least "
                         f"{rows}x{cols}")
    if arr.strides[1] != 1 or arr.strides[0] < arr.shape[1]:
        arr = np.ascontiguousarray(arr)
    return arr


class YUVFrame:
    """A YUV 4:2:0 frame, an input to :meth:`Model.classify`,
    :meth:`Pipeline.submit` / ``map``, :func:`imgclass.preprocess` and
    :class:`imgclass.torch.Transform`.

    From planes (numpy uint8 arrays, rows may be padded: a plane's row
    stride is its ``strides[0]``):

    - ``YUVFrame(y, uv=uv, layout="nv12")`` or ``"nv21"``: ``y`` is the
      ``height x width`` luma plane, ``uv`` the interleaved chroma plane of
      ``ceil(height / 2)`` rows of ``2 * ceil(width / 2)`` bytes (U first
      for NV12, V first for NV21), also accepted as ``(rows, cols, 2)``;
    - ``YUVFrame(y, u=u, v=v)``: I420 / YV12 planes, each chroma plane
      ``ceil(height / 2) x ceil(width / 2)`` (``layout`` "i420" or "yv12"
      only says which one C reads first: the result is the same).

    From one contiguous buffer (the planes one after the other, tightly
    packed, as a camera or ``cv2.cvtColor`` takes them: an array of shape
    ``(height * 3 // 2, width)`` for even sizes, or any bytes-like object):
    ``YUVFrame(buffer, width=W, height=H, layout="nv12")``. Without width
    and height, a 2-D array is read as cv2 lays an even frame out.

    ``width``/``height`` may also crop planes larger than the frame (e.g.
    rows padded to a multiple of 64). ``matrix``: "bt601" (default) or
    "bt709"; ``range``: "limited" (default, Y 16..235) or "full".
    """

    __slots__ = ("planes", "layout", "width", "height", "matrix", "range")

    def __init__(self, y, uv=None, u=None, v=None, *, layout=None, width=None, height=None,
                 matrix="bt601", range="limited"):  # noqa: A002 - the colour range's name
        self.matrix = _choice(matrix, _lib.YUV_MATRICES, "matrix")
        self.range = _choice(range, _lib.YUV_RANGES, "range")
        for what, value in (("width", width), ("height", height)):
            if value is not None and (isinstance(value, bool) or not isinstance(
                    value, (int, np.integer)) or not 1 <= value <= 2**31 - 1):
                raise ValueError(f"YUVFrame: {what} must be a positive int, got {value!r}")
        if uv is None and u is None and v is None:
            self._from_buffer(y, layout or "nv12", width, height)
            return
        if uv is not None and (u is not None or v is not None):
            raise ValueError("YUVFrame: give uv (NV12/NV21) or u and v (I420/YV12), not both")
        if uv is None and (u is None or v is None):
            raise ValueError("YUVFrame: I420/YV12 frames need both u and v planes")
        if not isinstance(y, np.ndarray) or y.ndim != 2:
            raise ValueError("YUVFrame: y must be a 2-D numpy uint8 array (height x width), got "
                             + (f"shape {y.shape}" if isinstance(y, np.ndarray)
                                else type(y).__name__))
        self.height = int(height if height is not None else y.shape[0])
        self.width = int(width if width is not None else y.shape[1])
        cw, ch = (self.width + 1) // 2, (self.height + 1) // 2
        y = _plane(y, "y", self.height, self.width)
        if uv is not None:
            self.layout = _choice(layout or "nv12", {"nv12": 0, "nv21": 0}, "layout (with uv)")
            self.planes = (y, _plane(uv, "uv", ch, 2 * cw))
        else:
            self.layout = _choice(layout or "i420", {"i420": 0, "yv12": 0}, "layout (with u, v)")
            u, v = _plane(u, "u", ch, cw), _plane(v, "v", ch, cw)
            self.planes = (y, u, v) if self.layout == "i420" else (y, v, u)

    def _from_buffer(self, data, layout, width, height):
        self.layout = _choice(layout, _lib.YUV_LAYOUTS, "layout")
        if isinstance(data, np.ndarray):
            if data.dtype != np.uint8:
                raise TypeError(f"YUVFrame: the buffer must be uint8, got {data.dtype}")
            if width is None and height is None and data.ndim == 2:
                if data.shape[0] % 3 or data.shape[1] % 2:
                    raise ValueError(
                        f"YUVFrame: a buffer of shape {data.shape} is not an even frame laid "
                        "out as cv2 takes it ((height * 3 / 2, width)): give width= and height=")
                width, height = data.shape[1], data.shape[0] * 2 // 3
            flat = np.ascontiguousarray(data).reshape(-1)
        else:
            try:
                flat = np.frombuffer(data, dtype=np.uint8)
            except (TypeError, ValueError, BufferError) as e:
                raise TypeError(f"YUVFrame: expected planes or one contiguous buffer "
                                f"(numpy uint8 array or bytes-like), got {type(data).__name__} "
                                f"({e})") from None
        if width is None or height is None:
            raise ValueError("YUVFrame: a single buffer needs width= and height=")
        w, h = int(width), int(height)
        cw, ch = (w + 1) // 2, (h + 1) // 2
        need = w * h + 2 * cw * ch
        if flat.size != need:
            raise ValueError(f"YUVFrame: a {w}x{h} {self.layout.upper()} frame is {need} bytes "
                             f"(Y {w * h}, chroma {2 * cw * ch}), the buffer has {flat.size}")
        self.width, self.height = w, h
        y = flat[:w * h].reshape(h, w)
        if self.layout in ("nv12", "nv21"):
            self.planes = (y, flat[w * h:].reshape(ch, 2 * cw))
        else:
            c = cw * ch
            self.planes = (y, flat[w * h:w * h + c].reshape(ch, cw),
                           flat[w * h + c:].reshape(ch, cw))

    def wrap(self):
        """A C image borrowing the planes (free it with imgclass_image_free,
        keeping this frame alive until then)."""
        f = lib.imgclass_yuv_frame_default()
        f.layout = _lib.YUV_LAYOUTS[self.layout]
        f.width, f.height = self.width, self.height
        f.matrix = _lib.YUV_MATRICES[self.matrix]
        f.range = _lib.YUV_RANGES[self.range]
        for i, p in enumerate(self.planes):
            f.planes[i] = p.ctypes.data
            f.strides[i] = p.strides[0]
        handle = ctypes.c_void_p()
        check(lib.imgclass_image_wrap_yuv(ctypes.byref(f), 0, ctypes.byref(handle)))
        return handle

    def __repr__(self):
        return (f"imgclass.YUVFrame({self.layout}, {self.width}x{self.height}, "
                f"{self.matrix}, {self.range})")
