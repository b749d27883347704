"""imgclass: image classification with libimgclass, from Python.

A thin ctypes binding to the C library: TorchScript classifiers with
preprocessing bit-identical to torchvision + Pillow, numpy in and out, the
GIL released on every call into C. A model is fed by the preprocessing
recipe it carries (tools/export_model.py writes it), field overrides aside.

    import imgclass
    with imgclass.Model("resnet18.pt", labels="synset.txt") as model:
        for r in model.classify(["cat.jpg", "dog.png"]):
            print(r.input, r.top[0] if r.ok else r.error)

See bindings/python/README.md for the whole API.
"""
from . import _lib
from ._errors import (BusyError, ClosedError, CorruptError, DeviceError, EngineError, Error,
                      InvalidArgumentError, IoError, LabelsError, ModelError, OutOfMemoryError,
                      TooLargeError, UnsupportedError, error_class)
from ._lib import LibraryNotFound, VersionMismatch
from ._model import (OPT_BFLOAT16, OPT_CHANNELS_LAST, OPT_DEFAULT, OPT_FOR_INFERENCE,
                     OPT_FREEZE, OPT_QUANTIZE_INPUT, Model, get_num_threads, set_num_threads,
                     topk)
from ._pipeline import Pipeline, PipelineStats
from ._preprocess import IMAGENET_MEAN, IMAGENET_STD, PreprocessOptions, preprocess
from ._probe import ImageInfo, probe
from ._results import Prediction, Result
from ._yuv import YUVFrame

__version__ = _lib.BINDING_VERSION
#: The version of the C library loaded (same major.minor as __version__).
library_version = _lib.LIBRARY_VERSION
#: The path (or name) of the library loaded, and where it was found:
#: "IMGCLASS_LIBRARY", "find_library" or "build".
library_path = _lib.LIBRARY_PATH
library_source = _lib.LIBRARY_SOURCE


def engine_version() -> str:
    """The inference engine's version, e.g. "libtorch 1.13.0"."""
    return _lib.lib.imgclass_engine_version().decode()


__all__ = [
    "BusyError", "ClosedError", "CorruptError", "DeviceError", "EngineError", "Error",
    "IMAGENET_MEAN", "IMAGENET_STD", "ImageInfo", "InvalidArgumentError", "IoError", "LabelsError",
    "LibraryNotFound", "Model", "ModelError", "OPT_BFLOAT16", "OPT_CHANNELS_LAST",
    "OPT_DEFAULT", "OPT_FOR_INFERENCE", "OPT_FREEZE", "OPT_QUANTIZE_INPUT", "OutOfMemoryError",
    "Pipeline",
    "PipelineStats", "Prediction", "PreprocessOptions", "Result", "TooLargeError",
    "UnsupportedError", "VersionMismatch", "YUVFrame", "engine_version", "error_class",
    "get_num_threads", "library_path", "library_source", "library_version", "preprocess", "probe",
    "set_num_threads", "topk",
]
