"""imgclass.Pipeline: the C pipeline (dynamic batching over a long-lived
model) as concurrent.futures.

Each submitted input gets a Future that resolves to a :class:`Result`
(``error`` set for a bad image). The C library calls back from its engine
thread; ctypes takes the GIL for the callback, which copies the result out
and resolves the future there. Everything C may still read (the callback
object, memory buffers, wrapped arrays) is kept alive in Python until the
input's result has been delivered or the pipeline closed.
"""
import atexit
import collections
import ctypes
import itertools
import threading
import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

import numpy as np

from . import _inputs, _lib
from ._args import _Filter, _int_arg, _topk_arg
from ._errors import ClosedError, check, make_error
from ._lib import lib
from ._results import Prediction, Result

CUT_REASONS = ("full", "deadline", "flush")


@dataclass(frozen=True)
class PipelineStats:
    """A snapshot of imgclass_pipeline_stats (times in microseconds)."""
    submitted: int
    delivered: int
    failed: int
    batches: int
    batches_full: int
    batches_deadline: int
    batches_flush: int
    batched_images: int
    queue_depth: int
    queue_capacity: int
    latency_p50_us: float
    latency_p90_us: float
    latency_p99_us: float
    latency_buckets: tuple
    latency_sum_us: float
    queued_sum_us: float
    preprocess_sum_us: float
    forward_sum_us: float
    engine_prepared: int  # images the engine thread prepared itself (idle, low load)

    @property
    def mean_batch(self) -> float:
        """Images per forward pass, on average (0 before the first)."""
        return self.batched_images / self.batches if self.batches else 0.0


_open_pipelines = weakref.WeakSet()


@atexit.register
def _close_all():
    # C threads must not call back into an interpreter that is finalising.
    for p in list(_open_pipelines):
        p.close()


class Pipeline:
    """A long-lived batching classifier: made by :meth:`Model.pipeline`.

    ``submit(input)`` returns a Future; ``map(inputs)`` yields Results in
    input order while keeping the queue full; ``flush()`` waits for
    everything submitted so far; ``stats()`` reports counts and latencies.
    As a context manager it drains (every accepted input is delivered) and
    frees the pipeline on exit. Future callbacks (``add_done_callback``)
    run on the pipeline's engine thread (one of them, with engine lanes):
    keep them short, and never call ``flush()``/``close()`` from them.
    """

    def __init__(self, model, batch=8, max_delay_ms=5, *, topk=5, preprocess_threads=0,
                 queue_capacity=0, ordered=True, bgr=False, threshold=None, allow=None,
                 deny=None, engine_lanes=0):
        self._handle = None
        model_handle = model._live()
        opts = lib.imgclass_pipeline_options_default()
        opts.max_batch = _int_arg(batch, "batch", 1)
        if max_delay_ms is None:
            opts.max_delay_us = -1  # no deadline: only full batches and flushes
        elif isinstance(max_delay_ms, bool) or not isinstance(max_delay_ms, (int, float)) or \
                not max_delay_ms >= 0:
            raise ValueError(f"max_delay_ms must be a number >= 0 or None, got {max_delay_ms!r}")
        else:
            opts.max_delay_us = int(round(max_delay_ms * 1000))
        opts.preprocess_threads = _int_arg(preprocess_threads, "preprocess_threads", 0)
        opts.queue_capacity = _int_arg(queue_capacity, "queue_capacity", 0)
        opts.engine_lanes = _int_arg(engine_lanes, "engine_lanes", 0)
        opts.topk = _topk_arg(topk)
        flt = _Filter(threshold, allow, deny)  # C copies what it needs at create
        # By pointer; ctypes.pointer keeps each alive with opts, and the
        # create copies what it needs.
        opts.filter = ctypes.pointer(flt.c)
        opts.decode = ctypes.pointer(model._dopts)
        opts.preprocess = ctypes.pointer(model._copts)
        opts.ordered = 1 if ordered else 0
        # The ctypes callback object must live as long as the C pipeline.
        self._callback = _lib.RESULT_FN(self._on_result)
        opts.on_result = self._callback
        self._model = model
        self._bgr = bgr
        self._pending = {}  # token -> (future, input, prepared inputs)
        self._tokens = itertools.count(1)  # 0 would reach the callback as None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._submitting = 0
        handle = ctypes.c_void_p()
        check(lib.imgclass_pipeline_create(model_handle, ctypes.byref(opts), ctypes.byref(handle)))
        self._handle = handle
        self.capacity = self.stats().queue_capacity
        _open_pipelines.add(self)
        model._pipelines.add(self)

    # --- submission ---------------------------------------------------------

    def submit(self, input, *, block: bool = True) -> "Future":
        """Queues one input; returns a Future resolving to its Result.
        Blocks (GIL released) while the queue is full, unless block=False,
        which raises BusyError instead. Raises ClosedError once closed."""
        with self._lock:
            handle = self._handle
            if handle is None:
                raise ClosedError("pipeline: the pipeline is closed", -12)
            # close() waits for submits in progress: C must not free the
            # pipeline under a thread inside imgclass_pipeline_submit().
            self._submitting += 1
        try:
            return self._submit(handle, input, block)
        finally:
            with self._lock:
                self._submitting -= 1
                if self._submitting == 0:
                    self._idle.notify_all()

    def _submit(self, handle, input, block):
        prepared = _inputs.Prepared([input], self._bgr)
        future = Future()
        future.set_running_or_notify_cancel()  # accepted work cannot be cancelled
        token = next(self._tokens)
        with self._lock:
            self._pending[token] = (future, input, prepared)
        seq = ctypes.c_uint64()
        flags = 0 if block else _lib.SUBMIT_NONBLOCK
        st = lib.imgclass_pipeline_submit(handle, prepared.c, token, flags, ctypes.byref(seq))
        if st != 0:
            err = make_error(st, _lib.lib.imgclass_last_error().decode("utf-8", "replace"))
            with self._lock:
                self._pending.pop(token, None)
            prepared.close()
            raise err
        return future

    def _on_result(self, ctx, result_ptr):
        # Runs on the C engine thread, holding the GIL. Nothing may escape:
        # ctypes would only print an exception raised here.
        try:
            r = result_ptr.contents
            with self._lock:
                future, obj, prepared = self._pending.pop(r.user)
        except Exception:  # noqa: BLE001 - an unknown token: nothing to resolve
            return
        try:
            if r.status != 0:
                res = Result(obj, [], None, r.error.decode("utf-8", "replace"), r.status)
            else:
                labels = self._model._labels
                top = [Prediction(c.index, labels[c.index] if labels is not None else None,
                                  float(c.score)) for c in r.top[:r.k]]
                scores = np.ctypeslib.as_array(r.scores, (r.num_classes,)).copy()
                res = Result(obj, top, scores)
            prepared.close()
            future.set_result(res)
        except BaseException as e:  # noqa: BLE001 - handed to the waiter instead
            future.set_exception(e)

    def map(self, inputs: Iterable, window: Optional[int] = None) -> Iterator:
        """Submits every input and yields their Results in input order,
        keeping up to ``window`` (default: the queue capacity) in flight."""
        window = self.capacity if window is None else window
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be an int >= 1, got {window!r}")
        inflight = collections.deque()
        for item in inputs:
            if len(inflight) >= window:
                yield inflight.popleft().result()
            inflight.append(self.submit(item))
        while inflight:
            yield inflight.popleft().result()

    def flush(self) -> None:
        """Cuts the partial batch and waits until everything submitted
        before the call has been delivered."""
        handle = self._handle
        if handle is None:
            raise ClosedError("pipeline: the pipeline is closed", -12)
        check(lib.imgclass_pipeline_flush(handle))

    def stats(self) -> PipelineStats:
        """Counters and latencies now."""
        handle = self._handle
        if handle is None:
            raise ClosedError("pipeline: the pipeline is closed", -12)
        s = _lib.PipelineStatsC()
        s.struct_size = ctypes.sizeof(s)
        check(lib.imgclass_pipeline_stats_get(handle, ctypes.byref(s)))
        return PipelineStats(
            s.submitted, s.delivered, s.failed, s.batches, s.batches_full, s.batches_deadline,
            s.batches_flush, s.batched_images, s.queue_depth, s.queue_capacity,
            s.latency_p50_us, s.latency_p90_us, s.latency_p99_us, tuple(s.latency_buckets),
            s.latency_sum_us, s.queued_sum_us, s.preprocess_sum_us, s.forward_sum_us,
            s.engine_prepared)

    # --- lifetime -----------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Stops accepting, delivers everything accepted, joins the
        threads and frees the pipeline. Idempotent."""
        with self._lock:
            handle, self._handle = self._handle, None
            if handle is None:
                return
            while self._submitting:
                self._idle.wait()
        lib.imgclass_pipeline_free(handle)  # waits for the callbacks, GIL released
        _open_pipelines.discard(self)
        with self._lock:
            left, self._pending = self._pending, {}
        for future, _, prepared in left.values():  # none unless C broke its promise
            prepared.close()
            future.set_exception(ClosedError("pipeline: closed before this input was delivered",
                                             -12))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_handle", None) is not None:
            self.close()
