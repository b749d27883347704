"""imgclass.Model: a loaded classifier; classify, predict, topk."""
import ctypes
import json
import os
import weakref
from collections.abc import Mapping
from typing import List, Optional, Sequence, Union

import numpy as np

from . import _inputs, _lib, _preprocess
from ._args import _Filter, _int_arg, _pair, _topk_arg
from ._errors import check
from ._lib import lib
from ._pipeline import Pipeline
from ._preprocess import PreprocessOptions, as_input_list
from ._results import Prediction, Result

#: IMGCLASS_OPTIMIZE_* flags (include/imgclass.h).
OPT_FREEZE = 0x1
OPT_FOR_INFERENCE = 0x2
OPT_CHANNELS_LAST = 0x4
OPT_BFLOAT16 = 0x8
OPT_QUANTIZE_INPUT = 0x10
OPT_DEFAULT = OPT_FREEZE | OPT_FOR_INFERENCE | OPT_QUANTIZE_INPUT

#: The values of ``precision`` (imgclass_precision in include/imgclass.h).
PRECISIONS = {"float32": 0, "bf16": 1}


def set_num_threads(n: int) -> None:
    """Sets the engine's intra-op thread pool size (process-wide: libtorch
    has one pool for every model). Call before loading models or while no
    forward pass runs."""
    check(lib.imgclass_set_num_threads(_int_arg(n, "threads", 1)))


def get_num_threads() -> int:
    """The engine's intra-op thread pool size."""
    return lib.imgclass_get_num_threads()


class Model:
    """A TorchScript classifier loaded by imgclass.

    ``path``: the model file (plain or gzip TorchScript). ``labels``: a label
    file (one per line, ImageNet synset lines, or TorchServe's
    index_to_name.json) or a sequence of strings; by default the labels of
    the model's recipe, if it has some. ``device``: "cpu", "cuda" or
    "cuda:N" (an unavailable device is a DeviceError, never a silent
    fallback). ``threads``: the engine's thread pool size, which is
    process-wide (see :func:`set_num_threads`). ``softmax``: scores are
    probabilities (default) or logits. ``optimize``: OPT_* flags (default
    OPT_DEFAULT). ``precision``: "float32" (default, exact) or "bf16":
    bfloat16 weights and compute, faster on a CPU with native bf16
    (avx512_bf16 or amx_bf16) and inexact (scores differ from float32's by
    about 1e-2); on a CPU without it the load raises UnsupportedError naming
    the model and the missing feature. An int8 model runs int8 whatever is
    asked; :attr:`precision` says what the model runs in.

    Preprocessing (what ``classify``, ``pipeline`` and ``preprocess`` do to
    an image; :attr:`preprocess_options` says what was chosen):

    - ``preprocess=None`` (the default): the model's own recipe, the
      ``imgclass.json`` that tools/export_model.py stores in it; without
      one, torchvision's ImageNet recipe (Resize 256, CenterCrop 224).
    - ``preprocess={"crop": 200, ...}``: the recipe with the named fields of
      :class:`PreprocessOptions` replaced and the others kept, as the CLI's
      flags override it (``--crop 200`` keeps the recipe's resize,
      interpolation, mean and std).
    - ``preprocess=PreprocessOptions(...)``: exactly these options, every
      field (the recipe is ignored; unset fields take PreprocessOptions'
      ImageNet defaults).

    ``input_size``: an int or (height, width). Without a recipe it keeps its
    old meaning: the ImageNet recipe scaled to it (crop = input size, the
    shorter side resized to round(input * 256 / 224)). With a recipe it is
    a crop override, the same as ``preprocess={"crop": input_size}``. It
    must agree with a crop (or a full PreprocessOptions) also given.

    The model runs at the size the preprocessing outputs: when overrides
    change it, the model is loaded at the new size (at most one reload).

    Thread-safe: any number of threads may classify/predict at once (each
    call releases the GIL). Use it as a context manager, or call
    :meth:`close`.
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"],
                 labels: Union[None, str, "os.PathLike[str]", Sequence[str]] = None,
                 device: str = "cpu", threads: Optional[int] = None, *,
                 input_size: Union[None, int, tuple] = None, softmax: bool = True,
                 optimize: Optional[int] = None, warmup_runs: int = 1,
                 qengine: Optional[str] = None, precision: str = "float32",
                 preprocess: Union[None, PreprocessOptions, Mapping] = None,
                 preprocess_threads: int = 0):
        self._handle = None
        self._pipelines = weakref.WeakSet()
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        if not isinstance(device, str):
            raise TypeError(f"device must be a str such as 'cpu' or 'cuda:0', got {device!r}")
        if not isinstance(precision, str):
            raise TypeError(f"precision must be a str, 'float32' or 'bf16', got {precision!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be 'float32' or 'bf16', got {precision!r}")
        size = None if input_size is None else _pair(input_size, "input_size")
        _preprocess.check_overrides(preprocess)
        asked = _preprocess.fixed_size(preprocess)
        if size is not None and asked is not None and size != asked:
            raise ValueError(f"input_size {input_size!r} disagrees with the preprocessing "
                             f"given, whose output is {asked[0]}x{asked[1]} (height x width)")
        opts = lib.imgclass_model_options_default()
        opts.device = device.encode()
        opts.softmax = 1 if softmax else 0
        if optimize is not None:
            opts.optimize = _int_arg(optimize, "optimize", 0)
        opts.warmup_runs = _int_arg(warmup_runs, "warmup_runs", 0)
        opts.precision = PRECISIONS[precision]
        if qengine is not None:
            if not isinstance(qengine, str):
                raise TypeError(f"qengine must be a str such as 'onednn', got {qengine!r}")
            opts.qengine = qengine.encode()
        self._preprocess_threads = _int_arg(preprocess_threads, "preprocess_threads", 0)
        if threads is not None:
            set_num_threads(threads)
        self.path = os.fspath(path)

        # 0 x 0: the loader takes the recipe's crop (224 without a recipe).
        self._load(opts, size or asked or (0, 0))
        try:
            base = PreprocessOptions._from_c(self._c_recipe())
            crop = None if size is None else size[0] if size[0] == size[1] else size
            if size is not None and self._recipe_json is None:
                # No recipe: input_size scales the ImageNet one, as always.
                base = PreprocessOptions(resize=256 if size == (224, 224) else
                                         round(min(size) * 256 / 224), crop=crop)
            elif size is not None and not isinstance(preprocess, PreprocessOptions):
                preprocess = dict({"crop": crop}, **(preprocess or {}))
            options = _preprocess.resolve(base, preprocess)
            try:
                self._copts, self._dopts = options.to_c()
                out = options.output_size()
            except ValueError as e:  # an override the recipe cannot take
                raise ValueError(f"{self.path}: {e} ({options})") from None
            if out != self._input_size[1:]:
                # The overrides changed the size the model takes (the CLI
                # reloads the same way, once).
                self._free()
                self._load(opts, out)
            if labels is not None:
                self._load_labels(labels)
        except BaseException:
            self.close()
            raise
        #: What classify, pipeline and preprocess do to an image: the
        #: model's recipe with the overrides given (see the class doc).
        self.preprocess_options: PreprocessOptions = options
        self._read_properties()

    def _load(self, opts, size):
        opts.input_height, opts.input_width = size
        handle = ctypes.c_void_p()
        check(lib.imgclass_model_load(os.fsencode(self.path), ctypes.byref(opts),
                                      ctypes.byref(handle)))
        self._handle = handle
        c, h, w = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        lib.imgclass_model_input_size(handle, ctypes.byref(c), ctypes.byref(h), ctypes.byref(w))
        self._input_size = (c.value, h.value, w.value)
        text = lib.imgclass_model_recipe_json(handle)
        self._recipe_json = None if text is None else text.decode("utf-8", "replace")

    def _c_recipe(self):
        """The model's default preprocessing as C holds it (its recipe, or
        the library's defaults without one)."""
        c = lib.imgclass_preprocess_options_default()  # sets struct_size
        check(lib.imgclass_model_preprocess_options(self._handle, ctypes.byref(c)))
        return c

    def _read_properties(self):
        handle = self._handle
        self._classes = lib.imgclass_model_num_classes(handle)
        self._device = lib.imgclass_model_device(handle).decode()
        qe = lib.imgclass_model_qengine(handle)
        self._qengine = None if qe is None else qe.decode()
        self._precision = lib.imgclass_model_precision(handle).decode()
        self._labels = self._read_labels(lib.imgclass_model_label)
        self._label_ids = self._read_labels(lib.imgclass_model_label_id)

    def _load_labels(self, labels):
        if isinstance(labels, (str, os.PathLike)):
            check(lib.imgclass_model_load_labels(self._handle, os.fsencode(labels)))
            return
        if isinstance(labels, (bytes, bytearray)) or not isinstance(labels, Sequence) or \
                not all(isinstance(s, str) for s in labels):
            raise TypeError("labels must be a path or a sequence of str")
        if any("\n" in s or "\r" in s for s in labels):
            raise ValueError("a label must not contain a line break")
        data = ("\n".join(labels) + "\n").encode()
        check(lib.imgclass_model_load_labels_memory(self._handle, data, len(data)))

    def _read_labels(self, getter):
        values = [getter(self._handle, i) for i in range(self._classes)]
        if all(v is None for v in values):
            return None
        return [None if v is None else v.decode("utf-8", "replace") for v in values]

    # --- lifetime -----------------------------------------------------------

    def _live(self):
        if self._handle is None:
            raise ValueError("the model is closed")
        return self._handle

    def close(self) -> None:
        """Frees the model. Pipelines made from it must be closed first."""
        for p in list(self._pipelines):  # C: the model must outlive them
            p.close()
        self._free()

    def _free(self):
        h, self._handle = self._handle, None
        if h is not None:
            lib.imgclass_model_free(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_handle", None) is not None and lib is not None:
            self.close()

    def __repr__(self):
        state = "closed" if self._handle is None else self._device
        return f"imgclass.Model({self.path!r}, {self._classes} classes, {state})"

    # --- queries ------------------------------------------------------------

    @property
    def classes(self) -> int:
        """The number of classes the model outputs."""
        return self._classes

    @property
    def labels(self) -> Optional[List[Optional[str]]]:
        """The label of each class, or None when the model has no labels."""
        return None if self._labels is None else list(self._labels)

    @property
    def label_ids(self) -> Optional[List[Optional[str]]]:
        """The id of each class ("n01440764" of a synset line), or None."""
        return None if self._label_ids is None else list(self._label_ids)

    @property
    def input_size(self) -> tuple:
        """(channels, height, width) of the input the model takes."""
        return self._input_size

    @property
    def recipe(self) -> Optional[dict]:
        """The recipe the model carries (its imgclass.json, parsed: resize,
        crop, interpolation, mean, std, labels, ...), or None without one.
        What the model runs with is :attr:`preprocess_options`."""
        return None if self._recipe_json is None else json.loads(self._recipe_json)

    @property
    def device(self) -> str:
        return self._device

    @property
    def qengine(self) -> Optional[str]:
        """The quantized engine running an int8 model ('onednn'), None for float."""
        return self._qengine

    @property
    def precision(self) -> str:
        """What the model runs in: 'float32', 'bf16' or 'int8' (a quantized
        model, whatever precision was asked)."""
        return self._precision

    @property
    def quantized(self) -> bool:
        return self._qengine is not None

    # --- work ---------------------------------------------------------------

    def _prediction(self, c):
        label = self._labels[c.index] if self._labels is not None else None
        return Prediction(c.index, label, float(c.score))

    def classify(self, inputs, topk: int = 5, *, bgr: bool = False,
                 preprocess_threads: Optional[int] = None, threshold: Optional[float] = None,
                 allow=None, deny=None) -> List[Result]:
        """Classifies one input or an iterable of them in one batch.

        Inputs: paths (``str``, ``os.PathLike``), encoded images
        (``bytes``/``bytearray``/``memoryview``), uint8 numpy arrays (HxW,
        HxWx3 RGB or BGR with ``bgr=True``, HxWx4), ``PIL.Image`` objects,
        :class:`imgclass.YUVFrame` camera frames. Each is preprocessed by
        :attr:`preprocess_options`.
        Returns one :class:`Result` per input, in order; a bad image (missing,
        corrupt, too large) gives a Result with ``error`` and never loses the
        others. Argument mistakes (an unsupported type, a float array, a bad
        shape) raise TypeError/ValueError before anything runs; a failure of
        the whole call (engine, memory) raises imgclass.Error.

        Filtering: ``topk=-1`` (or ``"all"``) reports every class;
        ``threshold`` omits classes scoring below it (a Result may then have
        no prediction, which is not an error); ``allow`` or ``deny`` (not
        both) is an iterable of class indices (int) and labels or synset ids
        (str). An unknown label or index raises imgclass.InvalidArgumentError.
        """
        handle = self._live()
        topk = _topk_arg(topk)
        flt = _Filter(threshold, allow, deny)
        items = as_input_list(inputs)
        if not items:
            return []
        opts = lib.imgclass_classify_options_default()
        opts.topk = topk
        opts.decode = ctypes.pointer(self._dopts)  # read during the call
        opts.preprocess = ctypes.pointer(self._copts)
        threads = self._preprocess_threads if preprocess_threads is None else \
            _int_arg(preprocess_threads, "preprocess_threads", 0)
        opts.preprocess_threads = threads
        opts.filter = ctypes.pointer(flt.c)
        res = ctypes.c_void_p()
        with _inputs.Prepared(items, bgr) as prepared:
            check(lib.imgclass_classify(handle, prepared.c, prepared.count, ctypes.byref(opts),
                                        ctypes.byref(res)))
        try:
            return [self._result(res, i, obj) for i, obj in enumerate(items)]
        finally:
            lib.imgclass_results_free(res)

    def _result(self, res, i, obj):
        st = lib.imgclass_results_status(res, i)
        if st != 0:
            return Result(obj, [], None, lib.imgclass_results_error(res, i).decode(
                "utf-8", "replace"), st)
        k = ctypes.c_int()
        top = lib.imgclass_results_top(res, i, ctypes.byref(k))
        scores = np.ctypeslib.as_array(lib.imgclass_results_scores(res, i),
                                       (self._classes,)).copy()
        return Result(obj, [self._prediction(top[j]) for j in range(k.value)], scores)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Runs a preprocessed (N, 3, H, W) batch through the model; returns
        (N, classes) float32 scores. A C-contiguous float32 array is passed
        to C as it is (no copy); other float arrays are copied once."""
        handle = self._live()
        if not isinstance(batch, np.ndarray):
            raise TypeError(f"predict takes a numpy array, got {type(batch).__name__}")
        if batch.dtype.kind != "f":
            raise TypeError(f"predict takes float32 values, got {batch.dtype}")
        c, h, w = self._input_size
        if batch.ndim != 4 or batch.shape[1:] != (c, h, w) or batch.shape[0] < 1:
            raise ValueError(f"predict: batch of shape {batch.shape}, the model takes "
                             f"(N, {c}, {h}, {w}) with N >= 1")
        batch = np.ascontiguousarray(batch, dtype=np.float32)  # no-op when already so
        n = batch.shape[0]
        out = np.empty((n, self._classes), dtype=np.float32)
        wrapped = ctypes.c_void_p()
        check(lib.imgclass_batch_wrap(batch.ctypes.data_as(_lib.c_float_p), n, h, w,
                                      ctypes.byref(wrapped)))
        try:
            check(lib.imgclass_predict(handle, wrapped, out.ctypes.data_as(_lib.c_float_p),
                                       out.size))
        finally:
            lib.imgclass_batch_free(wrapped)
        return out

    def preprocess(self, inputs, *, bgr: bool = False, threads: Optional[int] = None,
                   out: Optional[np.ndarray] = None) -> np.ndarray:
        """:func:`imgclass.preprocess` with this model's
        :attr:`preprocess_options`: the (N, 3, H, W) float32 batch
        :meth:`predict` takes, equal bit for bit to what :meth:`classify`
        feeds the model."""
        return _preprocess.preprocess(inputs, options=self.preprocess_options, bgr=bgr,
                                      threads=threads, out=out)

    def pipeline(self, batch: int = 8, max_delay_ms: Optional[float] = 5, *, topk: int = 5,
                 preprocess_threads: int = 0, queue_capacity: int = 0, ordered: bool = True,
                 bgr: bool = False, threshold: Optional[float] = None, allow=None, deny=None,
                 engine_lanes: int = 0):
        """A long-lived batching classifier over this model (see
        :class:`imgclass.Pipeline`): batches of up to ``batch`` images, cut
        ``max_delay_ms`` after their first image is ready (None: only full
        batches and flushes). Closing the model closes it first. ``topk``,
        ``threshold``, ``allow`` and ``deny`` filter as in :meth:`classify`.
        ``engine_lanes``: forward passes at once where the engine's threads
        prepare (0: the library picks, 2 for an int8 model)."""
        return Pipeline(self, batch=batch, max_delay_ms=max_delay_ms, topk=topk,
                        preprocess_threads=preprocess_threads, queue_capacity=queue_capacity,
                        ordered=ordered, bgr=bgr, threshold=threshold, allow=allow, deny=deny,
                        engine_lanes=engine_lanes)


def topk(scores, k: int = 5, model: Optional[Model] = None,
         labels: Optional[Sequence[Optional[str]]] = None):
    """The k best of a 1-D array of scores as Predictions, best first, ties
    to the lower index, NaN ranked last (the C library's rule). A 2-D array
    gives one list per row. Labels come from ``labels`` or ``model``."""
    arr = np.asarray(scores)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"topk takes numeric scores, got {arr.dtype}")
    if arr.ndim == 2:
        return [topk(row, k, model, labels) for row in arr]
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"topk takes a non-empty 1-D (or 2-D) array, got shape {arr.shape}")
    k = _int_arg(k, "k", 1)
    if labels is None and model is not None:
        labels = model._labels
    if labels is not None and len(labels) != arr.size:
        raise ValueError(f"{len(labels)} labels for {arr.size} scores")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    k = min(k, arr.size)
    out = (_lib.ClassC * k)()
    got = ctypes.c_int()
    check(lib.imgclass_topk(None, arr.ctypes.data_as(_lib.c_float_p), arr.size, k, out,
                            ctypes.byref(got)))
    return [Prediction(c.index, labels[c.index] if labels is not None else None,
                       float(c.score)) for c in out[:got.value]]
