"""What runs inside a Dask worker: one model and one imgclass pipeline per
worker process (cached by the model's settings, so every task of the job
on that worker reuses them), and the classification of one partition."""
import os
import threading
import time

import imgclass

from . import _parts

_lock = threading.Lock()
_cache = {}  # spec key -> (Model, Pipeline)
_loads = 0   # models loaded by this process: the tests count them


def load_count():
    """How many models this process has loaded."""
    return _loads


def _worker_threads():
    try:
        from distributed import get_worker
        w = get_worker()
    except (ImportError, ValueError):
        return None  # not in a distributed worker (a local scheduler)
    state = getattr(w, "state", None)  # distributed >= 2022.11 keeps it there
    return getattr(state, "nthreads", None) or getattr(w, "nthreads", None)


def pipeline_for(spec):
    """The process's pipeline for this model spec, made on first use. The
    engine gets as many threads as the worker has (set once per process:
    libtorch's pool is process-wide)."""
    global _loads
    key = tuple(sorted(spec.items()))
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            return hit[1]
        threads = _worker_threads()
        if threads and not _cache:
            imgclass.set_num_threads(threads)
        preprocess = spec["preprocess"]
        if isinstance(preprocess, tuple):  # a dict of overrides, frozen into the spec
            preprocess = dict(preprocess)
        model = imgclass.Model(spec["model"], labels=spec["labels"],
                               input_size=spec["input_size"], preprocess=preprocess)
        _loads += 1
        pipe = model.pipeline(batch=spec["batch"], topk=spec["topk"])
        _cache[key] = (model, pipe)
        return pipe


def _read(path):
    """A local path as is; a URL ("proto://...") read through fsspec."""
    if "://" in path and not path.startswith("file://"):
        import fsspec
        with fsspec.open(path, "rb") as f:
            return f.read()
    if path.startswith("file://"):
        return path[len("file://"):]
    return path


def classify_partition(paths, spec):
    """Records of one partition, in order: dicts with path, time, index,
    label, probability, top [(index, label, score)] and error (None on
    success)."""
    pipe = pipeline_for(spec)
    inputs = []
    records = []
    for p in paths:
        try:
            inputs.append(_read(p))
        except Exception as e:  # noqa: BLE001 - an unreadable URL is an error record
            inputs.append(None)
            records.append((p, f"{p}: i/o error: {e}"))
    errors = dict(records)
    good = [x for x in inputs if x is not None]
    results = iter(pipe.map(good))
    out = []
    for p, x in zip(paths, inputs):
        now = _parts.iso_time(time.time())
        if x is None:
            out.append(_record(p, now, None, errors[p]))
            continue
        r = next(results)
        out.append(_record(p, now, r, r.error))
    return out


def _record(path, now, r, error):
    if error is not None or r is None:
        return {"path": path, "time": now, "index": -1, "label": None,
                "probability": float("nan"), "top": [], "error": error}
    best = r.top[0]
    return {"path": path, "time": now, "index": best.index, "label": best.label,
            "probability": best.score, "top": [tuple(t) for t in r.top], "error": None}


def write_partition(index, paths, spec, output, start, key, fmt):
    """Classifies one partition and writes it as one part; returns a summary
    dict (part, records, errors)."""
    records = classify_partition(paths, spec)
    folder = _parts.part_folder(output, start)
    part = _parts.write_part(folder, _parts.part_name(start, key, index, fmt), records, fmt)
    return {"part": part, "index": index, "records": len(records),
            "errors": sum(1 for r in records if r["error"] is not None)}


def pid():
    return os.getpid()


def shutdown():
    """Closes this process's pipelines and models (client.run(shutdown)
    before a cluster closes, so workers exit promptly)."""
    with _lock:
        items = list(_cache.values())
        _cache.clear()
    for model, pipe in items:
        pipe.close()
        model.close()
    return len(items)
