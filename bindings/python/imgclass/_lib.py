"""Finding, loading and describing libimgclass.so with ctypes.

The library is searched for in this order, and the first one found is used:

1. the ``IMGCLASS_LIBRARY`` environment variable (a path to the .so; when it
   is set and cannot be loaded, that is an error: no silent fallback);
2. ``libimgclass.so`` inside this package, which only a wheel has (``make
   wheel`` bundles the core): the library the wheel was built with;
3. the installed library, as ``ctypes.util.find_library("imgclass")`` finds
   it (the linker cache, ``LD_LIBRARY_PATH``);
4. ``build/libimgclass.so`` of the source tree this package sits in.

The library must be at least the version this binding was written for
(``BINDING_VERSION``, which make writes from ``include/imgclass.h``): an older
one lacks functions or fields the binding uses, and is refused naming both
versions. A newer one of the same soname is accepted: the structs below carry
``struct_size`` and the library reads them as far as they go, with its own
defaults for fields added after this binding (the header's "Compatibility").

Every function is declared with its argument and result types, so a wrong
Python argument fails in ctypes, never in C. ``ctypes.CDLL`` releases the GIL
around every call.
"""
import ctypes
import ctypes.util
import os

from ._version import __version__ as BINDING_VERSION  # written by make from the header

c_float_p = ctypes.POINTER(ctypes.c_float)
c_size_t_p = ctypes.POINTER(ctypes.c_size_t)


class LibraryNotFound(ImportError):
    """libimgclass could not be found or loaded; the message lists where the
    binding looked and why each place failed."""


class VersionMismatch(ImportError):
    """The library found is older than the one the binding was written for."""


# --- structures (mirroring include/imgclass.h field for field) ------------


class DecodeOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),  # set by imgclass_*_init()
        ("max_pixels", ctypes.c_uint64),
        ("max_file_bytes", ctypes.c_uint64),
        ("max_decode_memory", ctypes.c_uint64),
        ("max_jpeg_scans", ctypes.c_int),
        ("exif_transpose", ctypes.c_int),
    ]


class PreprocessOptionsC(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),  # set by imgclass_*_init()
        ("resize_mode", ctypes.c_int),
        ("resize_size", ctypes.c_int),
        ("resize_width", ctypes.c_int),
        ("resize_height", ctypes.c_int),
        ("crop_width", ctypes.c_int),
        ("crop_height", ctypes.c_int),
        ("mean", ctypes.c_float * 3),
        ("std", ctypes.c_float * 3),
        ("fast", ctypes.c_int),
        ("interpolation", ctypes.c_int),
    ]


class ModelOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),  # set by imgclass_*_init()
        ("device", ctypes.c_char_p),
        ("input_channels", ctypes.c_int),
        ("input_height", ctypes.c_int),
        ("input_width", ctypes.c_int),
        ("softmax", ctypes.c_int),
        ("optimize", ctypes.c_uint),
        ("warmup_runs", ctypes.c_int),
        ("qengine", ctypes.c_char_p),
        ("max_model_bytes", ctypes.c_uint64),
        ("max_gzip_ratio", ctypes.c_uint),
        ("precision", ctypes.c_int),  # imgclass_precision: 0 float32, 1 bf16
    ]


class YuvFrameC(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),  # set by imgclass_yuv_frame_init()
        ("layout", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("planes", ctypes.c_void_p * 3),
        ("strides", ctypes.c_size_t * 3),
        ("matrix", ctypes.c_int),
        ("range", ctypes.c_int),
    ]


class ImageInfoC(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),  # set by the caller
        ("format", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("orientation", ctypes.c_int),
    ]


class ClassC(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_int),
        ("score", ctypes.c_float),
        ("label", ctypes.c_char_p),
        ("id", ctypes.c_char_p),
    ]


class InputC(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),  # set by Prepared (_inputs.py)
        ("kind", ctypes.c_int),
        ("path", ctypes.c_char_p),
        ("data", ctypes.c_void_p),
        ("size", ctypes.c_size_t),
        ("image", ctypes.c_void_p),
    ]


class FilterC(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),  # set by imgclass_filter_init()
        ("score_threshold", ctypes.c_float),
        ("allow_indices", ctypes.POINTER(ctypes.c_int)),
        ("allow_index_count", ctypes.c_size_t),
        ("allow_labels", ctypes.POINTER(ctypes.c_char_p)),
        ("allow_label_count", ctypes.c_size_t),
        ("deny_indices", ctypes.POINTER(ctypes.c_int)),
        ("deny_index_count", ctypes.c_size_t),
        ("deny_labels", ctypes.POINTER(ctypes.c_char_p)),
        ("deny_label_count", ctypes.c_size_t),
    ]


class ClassifyOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),  # set by imgclass_*_init()
        ("topk", ctypes.c_int),
        ("decode", ctypes.POINTER(DecodeOptions)),  # NULL: the defaults
        ("preprocess", ctypes.POINTER(PreprocessOptionsC)),  # NULL: the model's
        ("preprocess_threads", ctypes.c_int),
        ("filter", ctypes.POINTER(FilterC)),  # NULL: none
    ]


class PipelineResultC(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),  # the library's: fields never move
        ("user", ctypes.c_void_p),
        ("seq", ctypes.c_uint64),
        ("status", ctypes.c_int),
        ("error", ctypes.c_char_p),
        ("top", ctypes.POINTER(ClassC)),
        ("k", ctypes.c_int),
        ("scores", c_float_p),
        ("num_classes", ctypes.c_int),
        ("queued_us", ctypes.c_double),
        ("preprocess_us", ctypes.c_double),
        ("forward_us", ctypes.c_double),
        ("batch_size", ctypes.c_int),
        ("cut", ctypes.c_int),
        ("batch_id", ctypes.c_uint64),
        ("batch_inputs", ctypes.c_int),
    ]


RESULT_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(PipelineResultC))


class PipelineOptionsC(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("max_batch", ctypes.c_int),
        ("max_delay_us", ctypes.c_int64),
        ("preprocess_threads", ctypes.c_int),
        ("queue_capacity", ctypes.c_int),
        ("topk", ctypes.c_int),
        ("decode", ctypes.POINTER(DecodeOptions)),  # copied at create
        ("preprocess", ctypes.POINTER(PreprocessOptionsC)),
        ("on_result", RESULT_FN),
        ("on_result_ctx", ctypes.c_void_p),
        ("ordered", ctypes.c_int),
        ("preprocess_nice", ctypes.c_int),
        ("filter", ctypes.POINTER(FilterC)),
        ("engine_lanes", ctypes.c_int),  # 0: the library picks
        ("engine_lane_threads", ctypes.c_int),
    ]


LATENCY_BUCKETS = 24


class PipelineStatsC(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("submitted", ctypes.c_uint64),
        ("delivered", ctypes.c_uint64),
        ("failed", ctypes.c_uint64),
        ("batches", ctypes.c_uint64),
        ("batches_full", ctypes.c_uint64),
        ("batches_deadline", ctypes.c_uint64),
        ("batches_flush", ctypes.c_uint64),
        ("batched_images", ctypes.c_uint64),
        ("queue_depth", ctypes.c_uint64),
        ("queue_capacity", ctypes.c_int),
        ("latency_p50_us", ctypes.c_double),
        ("latency_p90_us", ctypes.c_double),
        ("latency_p99_us", ctypes.c_double),
        ("latency_buckets", ctypes.c_uint64 * LATENCY_BUCKETS),
        ("latency_sum_us", ctypes.c_double),
        ("queued_sum_us", ctypes.c_double),
        ("preprocess_sum_us", ctypes.c_double),
        ("forward_sum_us", ctypes.c_double),
        ("engine_prepared", ctypes.c_uint64),
    ]


# Constants of include/imgclass.h.
INPUT_PATH, INPUT_MEMORY, INPUT_IMAGE = 0, 1, 2
PIXEL_RGB, PIXEL_BGR, PIXEL_RGBA, PIXEL_BGRA, PIXEL_GRAY = 0, 1, 2, 3, 4
RESIZE_SHORTER, RESIZE_EXACT, RESIZE_NONE = 0, 1, 2
INTERPOLATIONS = {"bilinear": 0, "bicubic": 1}  # imgclass_interpolation
YUV_LAYOUTS = {"nv12": 5, "nv21": 6, "i420": 7, "yv12": 8}  # imgclass_pixel_format
YUV_MATRICES = {"bt601": 0, "bt709": 1}  # imgclass_yuv_matrix
YUV_RANGES = {"limited": 0, "full": 1}  # imgclass_yuv_range
SUBMIT_NONBLOCK, SUBMIT_COPY = 0x1, 0x2

_VP = ctypes.c_void_p
_VPP = ctypes.POINTER(ctypes.c_void_p)
_INT = ctypes.c_int
_INTP = ctypes.POINTER(ctypes.c_int)
_SZ = ctypes.c_size_t

# name: (restype, argtypes). Statuses are plain ints.
_PROTOTYPES = {
    "imgclass_version": (ctypes.c_char_p, []),
    "imgclass_version_number": (_INT, []),
    "imgclass_status_str": (ctypes.c_char_p, [_INT]),
    "imgclass_last_error": (ctypes.c_char_p, []),
    "imgclass_decode_options_init": (_INT, [ctypes.POINTER(DecodeOptions), _SZ]),
    "imgclass_image_load": (_INT, [ctypes.c_char_p, ctypes.POINTER(DecodeOptions), _VPP]),
    "imgclass_image_load_memory": (_INT, [_VP, _SZ, ctypes.POINTER(DecodeOptions), _VPP]),
    "imgclass_image_probe": (_INT, [ctypes.c_char_p, ctypes.POINTER(DecodeOptions),
                                    ctypes.POINTER(ImageInfoC)]),
    "imgclass_image_probe_memory": (_INT, [_VP, _SZ, ctypes.POINTER(DecodeOptions),
                                           ctypes.POINTER(ImageInfoC)]),
    "imgclass_file_format_name": (ctypes.c_char_p, [_INT]),
    "imgclass_image_wrap": (_INT, [_VP, _INT, _INT, _SZ, _INT, _INT, _VPP]),
    "imgclass_yuv_frame_init": (_INT, [ctypes.POINTER(YuvFrameC), _SZ]),
    "imgclass_image_wrap_yuv": (_INT, [ctypes.POINTER(YuvFrameC), _INT, _VPP]),
    "imgclass_image_width": (_INT, [_VP]),
    "imgclass_image_height": (_INT, [_VP]),
    "imgclass_image_free": (None, [_VP]),
    "imgclass_batch_wrap": (_INT, [c_float_p, _SZ, _INT, _INT, _VPP]),
    "imgclass_batch_free": (None, [_VP]),
    "imgclass_preprocess_options_init": (_INT, [ctypes.POINTER(PreprocessOptionsC), _SZ]),
    "imgclass_preprocess_output_size": (_INT, [ctypes.POINTER(PreprocessOptionsC), _INT, _INT,
                                               _INTP, _INTP]),
    "imgclass_preprocess": (_INT, [_VP, ctypes.POINTER(PreprocessOptionsC), _VP, _SZ]),
    "imgclass_preprocess_file": (_INT, [ctypes.c_char_p, ctypes.POINTER(DecodeOptions),
                                        ctypes.POINTER(PreprocessOptionsC), _VP, _SZ]),
    "imgclass_preprocess_memory": (_INT, [_VP, _SZ, ctypes.POINTER(DecodeOptions),
                                          ctypes.POINTER(PreprocessOptionsC), _VP, _SZ]),
    "imgclass_model_options_init": (_INT, [ctypes.POINTER(ModelOptions), _SZ]),
    "imgclass_model_load": (_INT, [ctypes.c_char_p, ctypes.POINTER(ModelOptions), _VPP]),
    "imgclass_model_load_labels": (_INT, [_VP, ctypes.c_char_p]),
    "imgclass_model_load_labels_memory": (_INT, [_VP, _VP, _SZ]),
    "imgclass_model_num_classes": (_INT, [_VP]),
    "imgclass_model_input_size": (None, [_VP, _INTP, _INTP, _INTP]),
    "imgclass_model_device": (ctypes.c_char_p, [_VP]),
    "imgclass_model_is_quantized": (_INT, [_VP]),
    "imgclass_model_qengine": (ctypes.c_char_p, [_VP]),
    "imgclass_model_precision": (ctypes.c_char_p, [_VP]),
    "imgclass_model_label": (ctypes.c_char_p, [_VP, _INT]),
    "imgclass_model_label_id": (ctypes.c_char_p, [_VP, _INT]),
    "imgclass_model_has_recipe": (_INT, [_VP]),
    "imgclass_model_preprocess_options": (_INT, [_VP, ctypes.POINTER(PreprocessOptionsC)]),
    "imgclass_model_recipe_json": (ctypes.c_char_p, [_VP]),
    "imgclass_model_free": (None, [_VP]),
    "imgclass_set_num_threads": (_INT, [_INT]),
    "imgclass_get_num_threads": (_INT, []),
    "imgclass_engine_version": (ctypes.c_char_p, []),
    "imgclass_predict": (_INT, [_VP, _VP, c_float_p, _SZ]),
    "imgclass_topk": (_INT, [_VP, c_float_p, _INT, _INT, ctypes.POINTER(ClassC), _INTP]),
    "imgclass_filter_init": (_INT, [ctypes.POINTER(FilterC), _SZ]),
    "imgclass_classify_options_init": (_INT, [ctypes.POINTER(ClassifyOptions), _SZ]),
    "imgclass_classify": (_INT, [_VP, ctypes.POINTER(InputC), _SZ,
                                 ctypes.POINTER(ClassifyOptions), _VPP]),
    "imgclass_results_count": (_SZ, [_VP]),
    "imgclass_results_status": (_INT, [_VP, _SZ]),
    "imgclass_results_error": (ctypes.c_char_p, [_VP, _SZ]),
    "imgclass_results_top": (ctypes.POINTER(ClassC), [_VP, _SZ, _INTP]),
    "imgclass_results_scores": (c_float_p, [_VP, _SZ]),
    "imgclass_results_free": (None, [_VP]),
    "imgclass_pipeline_options_init": (_INT, [ctypes.POINTER(PipelineOptionsC), _SZ]),
    "imgclass_pipeline_create": (_INT, [_VP, ctypes.POINTER(PipelineOptionsC), _VPP]),
    "imgclass_pipeline_submit": (_INT, [_VP, ctypes.POINTER(InputC), _VP, ctypes.c_uint,
                                        ctypes.POINTER(ctypes.c_uint64)]),
    "imgclass_pipeline_flush": (_INT, [_VP]),
    "imgclass_pipeline_stats_get": (_INT, [_VP, ctypes.POINTER(PipelineStatsC)]),
    "imgclass_pipeline_free": (None, [_VP]),
}


def _repo_build_library():
    """build/libimgclass.so of the source tree holding this package, if the
    package is being imported from one (bindings/python/imgclass/)."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    return os.path.join(root, "build", "libimgclass.so")


def _bundled_library():
    """libimgclass.so next to this file: present in a wheel only."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "libimgclass.so")


#: The candidates that are files, and what their absence means.
_FILE_SOURCES = {"bundled": "only a wheel bundles the library", "build": "run make"}


def _candidates():
    """(source, what to dlopen) in search order."""
    env = os.environ.get("IMGCLASS_LIBRARY")
    if env:
        # An explicit choice is the only candidate: falling back to another
        # library behind the user's back would hide their mistake.
        return [("IMGCLASS_LIBRARY", env)]
    # A wheel's own library first: the binding and it come from one build,
    # whatever else the machine has installed.
    out = [("bundled", _bundled_library())]
    found = ctypes.util.find_library("imgclass")
    out.append(("find_library", found))
    out.append(("build", _repo_build_library()))
    return out


def _declare(lib, table):
    for name, (restype, argtypes) in table.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def _version_tuple(text):
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None


def check_version(got, where, needed=BINDING_VERSION):
    """Refuses (VersionMismatch, naming both) a library older than `needed`,
    the version this binding was written for; a newer one is accepted (see
    the module's docstring). Returns `got`."""
    have, want = _version_tuple(got), _version_tuple(needed)
    if have is None or have < want:
        raise VersionMismatch(
            f"imgclass: the library {where} is version {got}, older than {needed}, the "
            f"version this binding was written for (it needs libimgclass >= {needed}); "
            "install a newer library or point IMGCLASS_LIBRARY at one")
    return got


def _check_version(lib, where):
    lib.imgclass_version.restype = ctypes.c_char_p
    lib.imgclass_version.argtypes = []
    return check_version(lib.imgclass_version().decode(), where)


def _init_fn(init, struct):
    """The Python side of the header's inline imgclass_X_default(): a
    struct of this binding's size, filled by the library's imgclass_X_init()
    (so the binding's own sizeof is what the library writes)."""
    def default():
        s = struct()
        st = init(ctypes.byref(s), ctypes.sizeof(s))
        if st != 0:
            raise VersionMismatch(
                f"imgclass: {init.__name__}() refused this binding's {struct.__name__} of "
                f"{ctypes.sizeof(s)} bytes: the binding and include/imgclass.h disagree")
        return s
    default.__name__ = init.__name__.replace("_init", "_default")
    return default


_DEFAULTS = [("decode_options", DecodeOptions), ("preprocess_options", PreprocessOptionsC),
             ("model_options", ModelOptions), ("classify_options", ClassifyOptions),
             ("pipeline_options", PipelineOptionsC), ("filter", FilterC),
             ("yuv_frame", YuvFrameC)]


def _add_defaults(lib):
    """lib.imgclass_X_default() for each imgclass_X_init(), as the header
    has them; each is called once here, so a mirror the library refuses
    fails at import."""
    for name, struct in _DEFAULTS:
        fn = _init_fn(getattr(lib, f"imgclass_{name}_init"), struct)
        setattr(lib, f"imgclass_{name}_default", fn)
        fn()


def load():
    """(CDLL, source, path, version) of the first usable library, or
    LibraryNotFound listing every place tried."""
    tried = []
    for source, target in _candidates():
        if target is None:
            tried.append(f"{source}: ctypes.util.find_library('imgclass') found nothing")
            continue
        if source in _FILE_SOURCES and not os.path.exists(target):
            tried.append(f"{source}: {target} does not exist ({_FILE_SOURCES[source]})")
            continue
        try:
            lib = ctypes.CDLL(target)
        except OSError as e:
            tried.append(f"{source}: {target}: {e}")
            continue
        where = f"{target} (from {source})"
        if not hasattr(lib, "imgclass_version"):
            tried.append(f"{source}: {target} has no imgclass_version(): not libimgclass")
            continue
        version = _check_version(lib, where)
        _declare(lib, _PROTOTYPES)
        _add_defaults(lib)
        return lib, source, target, version
    raise LibraryNotFound("imgclass: cannot load libimgclass; looked in order at:\n  "
                          + "\n  ".join(tried)
                          + "\nset IMGCLASS_LIBRARY=/path/to/libimgclass.so, install the "
                          "library (make install), or build it (make)")


lib, LIBRARY_SOURCE, LIBRARY_PATH, LIBRARY_VERSION = load()
