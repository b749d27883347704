"""imgclass.preprocess: decode, resize, crop and normalise into a float32
(N, 3, H, W) array, bit for bit what torchvision + Pillow give, written by C
straight into the array's memory."""
import ctypes
import dataclasses
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from . import _inputs, _lib
from ._args import _pair
from ._errors import last_error, make_error
from ._lib import lib

Size = Union[int, Tuple[int, int]]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Pillow's Image.MAX_IMAGE_PIXELS: larger images are refused from the header.
DEFAULT_MAX_PIXELS = 89478485


@dataclass(frozen=True)
class PreprocessOptions:
    """The torchvision eval recipe imgclass reproduces.

    ``resize``: an int resizes the shorter side to it, as ``Resize(int)``; an
    ``(h, w)`` pair resizes to exactly that, as ``Resize((h, w))``; ``None``
    does not resize. ``crop``: ``CenterCrop`` size (int or pair), ``None``
    for no crop (then the output size must not depend on the image: only
    with a pair ``resize``). ``mean``/``std``: ``Normalize``. ``fast``: allow
    inexact JPEG shortcuts (reduced-scale DCT decoding, as Pillow's draft()).
    ``max_pixels``: larger images are refused (0: no limit, trusted input).
    ``interpolation``: the resize filter, ``"bilinear"`` (torchvision's
    default) or ``"bicubic"``, both bit-exact with Pillow. ``exif_transpose``:
    apply the EXIF orientation of JPEG and PNG files first, as
    ``ImageOps.exif_transpose(Image.open(f))`` (the default, False, keeps
    the pixels as stored, as ``Image.open(f)``).

    The defaults are torchvision's ImageNet recipe; a model that carries its
    own recipe gives it as :attr:`imgclass.Model.preprocess_options`, and
    :meth:`replace` changes some fields of one (as ``Model(path,
    preprocess={"crop": 200})`` does).
    """
    resize: Optional[Size] = 256
    crop: Optional[Size] = 224
    mean: Sequence[float] = IMAGENET_MEAN
    std: Sequence[float] = IMAGENET_STD
    fast: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    interpolation: str = "bilinear"
    exif_transpose: bool = False

    def output_size(self):
        """(height, width) of every output image, or ValueError when it
        would depend on the image."""
        if self.crop is not None:
            return _pair(self.crop, "crop")
        if self.resize is not None and not isinstance(self.resize, (int, np.integer)):
            return _pair(self.resize, "resize")
        raise ValueError("preprocess: without crop, the output size depends on each image; "
                         "give crop=, or resize=(height, width)")

    @classmethod
    def _from_c(cls, c, decode=None):
        """The options an imgclass_preprocess_options struct holds (plus
        max_pixels and exif_transpose of an imgclass_decode_options, else
        their defaults). ``to_c()`` of the result gives the same struct back:
        mean and std are the float32 values C holds, as Python floats; a
        square crop is an int, as ``CenterCrop(n)`` is written."""
        if c.resize_mode == _lib.RESIZE_SHORTER:
            resize = int(c.resize_size)
        elif c.resize_mode == _lib.RESIZE_EXACT:
            resize = (int(c.resize_height), int(c.resize_width))
        elif c.resize_mode == _lib.RESIZE_NONE:
            resize = None
        else:
            raise ValueError(f"preprocess: unknown resize mode {c.resize_mode} from the library")
        if c.crop_height == 0 and c.crop_width == 0:
            crop = None
        elif c.crop_height == c.crop_width:
            crop = int(c.crop_height)
        else:
            crop = (int(c.crop_height), int(c.crop_width))
        names = {v: k for k, v in _lib.INTERPOLATIONS.items()}
        if c.interpolation not in names:
            raise ValueError(f"preprocess: unknown interpolation {c.interpolation} from the "
                             "library")
        extra = {}
        if decode is not None:
            extra = {"max_pixels": int(decode.max_pixels),
                     "exif_transpose": bool(decode.exif_transpose)}
        return cls(resize=resize, crop=crop, mean=tuple(float(v) for v in c.mean),
                   std=tuple(float(v) for v in c.std), fast=bool(c.fast),
                   interpolation=names[c.interpolation], **extra)

    def replace(self, **fields) -> "PreprocessOptions":
        """A copy with the named fields changed, the others kept: how a
        model's recipe is overridden field by field (``replace(crop=200)``
        keeps its resize, interpolation, mean and std, as the CLI's
        ``--crop 200`` does). An unknown name is a TypeError."""
        unknown = sorted(set(fields) - set(FIELDS))
        if unknown:
            raise TypeError(f"preprocess: unknown option{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(map(repr, unknown))}; the options are "
                            f"{', '.join(FIELDS)}")
        for name in ("mean", "std"):  # lists would make the options unhashable
            if isinstance(fields.get(name), list):
                fields[name] = tuple(fields[name])
        return dataclasses.replace(self, **fields)

    def to_c(self):
        """(imgclass_preprocess_options, imgclass_decode_options), validated."""
        o = lib.imgclass_preprocess_options_default()
        if self.resize is None:
            o.resize_mode = _lib.RESIZE_NONE
        elif isinstance(self.resize, (int, np.integer)) and not isinstance(self.resize, bool):
            o.resize_mode = _lib.RESIZE_SHORTER
            o.resize_size = _pair(self.resize, "resize")[0]
        else:
            o.resize_mode = _lib.RESIZE_EXACT
            o.resize_height, o.resize_width = _pair(self.resize, "resize")
        if self.crop is None:
            o.crop_height = o.crop_width = 0
        else:
            o.crop_height, o.crop_width = _pair(self.crop, "crop")
        for name in ("mean", "std"):
            v = getattr(self, name)
            if len(v) != 3:
                raise ValueError(f"{name} must have 3 values (R, G, B), got {v!r}")
        if any(float(s) == 0.0 for s in self.std):
            raise ValueError(f"std must not contain 0, got {self.std!r}")
        o.mean[:] = [float(m) for m in self.mean]
        o.std[:] = [float(s) for s in self.std]
        o.fast = 1 if self.fast else 0
        if self.interpolation not in _lib.INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {sorted(_lib.INTERPOLATIONS)}, "
                             f"got {self.interpolation!r}")
        o.interpolation = _lib.INTERPOLATIONS[self.interpolation]
        if not isinstance(self.max_pixels, (int, np.integer)) or self.max_pixels < 0:
            raise ValueError(f"max_pixels must be an int >= 0, got {self.max_pixels!r}")
        # The library's defaults for the other limits (file size, decode
        # memory, JPEG scans), then the caller's pixel limit.
        d = _lib.lib.imgclass_decode_options_default()
        d.max_pixels = int(self.max_pixels)
        d.exif_transpose = 1 if self.exif_transpose else 0
        return o, d


#: The names of the fields, in order.
FIELDS = tuple(f.name for f in dataclasses.fields(PreprocessOptions))


def resolve(base, preprocess):
    """The options a model runs with: ``base`` (its recipe) for None; a
    :class:`PreprocessOptions` as it is (every field explicit); ``base``
    with the fields a mapping names replaced (``{"crop": 200}``)."""
    if preprocess is None:
        return base
    if isinstance(preprocess, PreprocessOptions):
        return preprocess
    if isinstance(preprocess, Mapping):
        return base.replace(**preprocess)
    raise TypeError("preprocess must be an imgclass.PreprocessOptions (every field), a dict "
                    "of fields to override (e.g. {'crop': 200}) or None (the model's recipe), "
                    f"got {type(preprocess).__name__}")


def check_overrides(preprocess):
    """Raises TypeError for a preprocess argument resolve() would refuse,
    before a model is loaded (unknown names, a wrong type); returns it."""
    resolve(PreprocessOptions(), preprocess)
    return preprocess


def fixed_size(preprocess):
    """The output (height, width) a preprocess argument fixes whatever the
    recipe under it, else None: a full PreprocessOptions, or a mapping that
    gives a crop (or no crop and an exact resize)."""
    if isinstance(preprocess, PreprocessOptions):
        return preprocess.output_size()
    if not isinstance(preprocess, Mapping):
        return None
    if preprocess.get("crop") is not None:
        return _pair(preprocess["crop"], "crop")
    resize = preprocess.get("resize")
    if "crop" in preprocess and resize is not None and not isinstance(resize, (int, np.integer)):
        return _pair(resize, "resize")
    return None


_c_cache = {}  # PreprocessOptions -> its validated C structs (read-only in C)


def c_options(options):
    """options.to_c(), memoised: a DataLoader transform calls it per image."""
    try:
        return _c_cache[options]
    except KeyError:
        value = options.to_c()
        if len(_c_cache) < 64:
            _c_cache[options] = value
        return value
    except TypeError:  # unhashable fields (lists): validate every time
        return options.to_c()


def as_input_list(inputs):
    """A list of inputs from a single input or an iterable of them."""
    if isinstance(inputs, (str, os.PathLike, bytes, bytearray, memoryview, np.ndarray,
                           _inputs.YUVFrame)) or _inputs._is_pil_image(inputs):
        return [inputs]
    try:
        return list(inputs)
    except TypeError:
        raise TypeError(f"expected an input or an iterable of inputs, got "
                        f"{type(inputs).__name__}") from None


_pool_lock = threading.Lock()
_pool = None  # (pid, executor): a forked child (DataLoader worker) makes its own


def _executor():
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                                     thread_name_prefix="imgclass"))
        return _pool[1]


def _preprocess_one(slot, copts, dopts, batch, i):
    """Runs one slot on the calling thread; (status, message) so the
    thread-local message is read by the thread that failed."""
    if slot.kind == _lib.INPUT_PATH:
        st = lib.imgclass_preprocess_file(slot.path, ctypes.byref(dopts), ctypes.byref(copts),
                                          batch, i)
    elif slot.kind == _lib.INPUT_MEMORY:
        st = lib.imgclass_preprocess_memory(slot.data, slot.size, ctypes.byref(dopts),
                                            ctypes.byref(copts), batch, i)
    else:
        st = lib.imgclass_preprocess(slot.image, ctypes.byref(copts), batch, i)
    return (st, last_error()) if st != 0 else (0, "")


def preprocess(inputs, resize: Optional[Size] = 256, crop: Optional[Size] = 224, *,
               mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD,
               fast: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS, bgr: bool = False,
               threads: Optional[int] = None, out: Optional[np.ndarray] = None,
               options: Optional[PreprocessOptions] = None,
               interpolation: str = "bilinear", exif_transpose: bool = False) -> np.ndarray:
    """Decodes and preprocesses images into a float32 array (N, 3, H, W).

    Equal bit for bit to ``Compose([Resize(resize), CenterCrop(crop),
    ToTensor(), Normalize(mean, std)])`` applied to
    ``Image.open(f).convert("RGB")`` (unless ``fast``): the ImageNet recipe
    by default, whatever model follows (:meth:`imgclass.Model.preprocess`
    uses a model's own). ``inputs`` is one input or an iterable of them
    (paths, encoded bytes, uint8 arrays, PIL images, YUVFrames; see
    :func:`imgclass.Model.classify`). ``options`` replaces the
    keyword options. ``out``, when given, must be a C-contiguous float32
    array of the right shape: it is filled in place and returned. Images are
    processed on ``threads`` threads (default: the CPU count), the GIL
    released. The first bad input raises its :class:`imgclass.Error`,
    prefixed with its index.
    """
    if options is None:
        options = PreprocessOptions(resize, crop, tuple(mean), tuple(std), fast, max_pixels,
                                    interpolation, exif_transpose)
    elif not isinstance(options, PreprocessOptions):
        raise TypeError("options must be an imgclass.PreprocessOptions")
    copts, dopts = c_options(options)
    h, w = options.output_size()
    items = as_input_list(inputs)
    n = len(items)
    if n == 0:
        raise ValueError("preprocess: no inputs")
    shape = (n, 3, h, w)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    else:
        if not isinstance(out, np.ndarray) or out.dtype != np.float32:
            raise TypeError("out must be a float32 numpy array")
        if out.shape != shape:
            raise ValueError(f"out has shape {out.shape}, expected {shape}")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("out must be C-contiguous and writeable")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be an int >= 1, got {threads!r}")

    with _inputs.Prepared(items, bgr) as prepared:
        batch = ctypes.c_void_p()
        st = lib.imgclass_batch_wrap(out.ctypes.data_as(_lib.c_float_p), n, h, w,
                                     ctypes.byref(batch))
        if st != 0:
            raise make_error(st, last_error())
        try:
            workers = min(n, threads or os.cpu_count() or 1)
            if workers <= 1:
                outcomes = [_preprocess_one(prepared.c[i], copts, dopts, batch, i)
                            for i in range(n)]
            else:
                # `workers` tasks claim images one at a time from a shared
                # iterator (next() is atomic under the GIL), so a slow image
                # does not hold back a fixed share; at most `workers` C
                # calls run at once.
                outcomes = [None] * n
                claim = iter(range(n))

                def share(_):
                    for i in claim:
                        outcomes[i] = _preprocess_one(prepared.c[i], copts, dopts, batch, i)

                for f in [_executor().submit(share, t) for t in range(workers)]:
                    f.result()
        finally:
            lib.imgclass_batch_free(batch)
    for i, (st, msg) in enumerate(outcomes):
        if st != 0:
            raise make_error(st, f"input {i}: {msg}")
    return out
