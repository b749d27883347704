"""imgclass on Dask: classify millions of images across many machines.

    from imgclass.dask import classify_paths
    bag = classify_paths("/data/photos/**/*.jpg", "resnet18.pt", labels="synset.txt",
                         client=client, output="/data/predictions")
    summary = bag.compute()

Every worker process loads the model once and runs imgclass's pipeline
(batching, C-speed bit-exact preprocessing) over the paths of its
partitions; the scheduler only moves path lists and small records. Inputs
are paths every worker can read (a shared file system) or, when fsspec is
installed, any URL it opens ("s3://...", read by the worker).

Without ``output`` the result is a Dask bag of records, one per image, in
input order: dicts with ``path``, ``time``, ``index``, ``label``,
``probability``, ``top`` (``[(index, label, score)]``) and ``error`` (None
on success); ``bag.to_dataframe()`` makes a DataFrame of them. With
``output=DIR`` each partition is written as one part file in
imgclass-watch's layout and record format
(``DIR/dt=YYYY-MM-DD/hour=HH/part-*.jsonl``), atomically and under a name
fixed when the job is built, so a task Dask retries (when a worker dies)
rewrites the same part: no duplicate, no partial part. The bag then holds
one summary per part (``part``, ``index``, ``records``, ``errors``). Parts
a previous run of the same job (same inputs, model and partition size)
finished are kept and skipped.
"""
import dataclasses
import glob as _glob
import hashlib
import os
import time

from . import _parts, _worker
from collections.abc import Mapping

from .._args import _pair
from .._preprocess import FIELDS, PreprocessOptions, check_overrides

__all__ = ["classify_paths", "expand_paths", "job_key", "local_cluster", "worker_load_counts"]

_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga", ".pnm", ".ppm",
                     ".pgm", ".psd", ".webp", ".tif", ".tiff")


def expand_paths(paths_or_glob):
    """A sorted list of inputs from a list of paths, a glob pattern ("**"
    recurses), a folder (every file below it), or a URL pattern fsspec
    expands ("s3://bucket/*.jpg")."""
    if isinstance(paths_or_glob, (str, os.PathLike)):
        pattern = os.fspath(paths_or_glob)
        if "://" in pattern and not pattern.startswith("file://"):
            import fsspec
            fs, _, found = fsspec.core.get_fs_token_paths(pattern)
            return sorted(fs.unstrip_protocol(p) for p in found)
        if pattern.startswith("file://"):
            pattern = pattern[len("file://"):]
        if os.path.isdir(pattern):
            out = [os.path.join(root, f) for root, _, files in os.walk(pattern) for f in files
                   if not f.startswith(".")]
        else:
            out = _glob.glob(pattern, recursive=True)
        return sorted(p for p in out if os.path.isfile(p))
    out = [os.fspath(p) for p in paths_or_glob]
    for p in out:
        if not isinstance(p, str):
            raise TypeError(f"paths must be str or os.PathLike, got {type(p).__name__}")
    return out


def _frozen(value):
    """A hashable, stably ordered form of an input_size or preprocess
    argument (the workers' model cache key, part of the job key)."""
    if isinstance(value, PreprocessOptions):
        return dataclasses.replace(value, **{k: _frozen(getattr(value, k)) for k in FIELDS})
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def job_key(paths, model, partition_size, topk, fmt, input_size=None, preprocess=None):
    """8 hex digits naming a job by what it computes: the same inputs,
    model, preprocessing, partitioning and format give the same part names
    (a job with the model's own recipe keeps the key it had before
    preprocessing could be overridden)."""
    h = hashlib.sha1()
    parts = [os.path.abspath(model), str(partition_size), str(topk), fmt]
    if input_size is not None or preprocess is not None:
        parts.append(repr((_frozen(input_size), _frozen(preprocess))))
    for part in parts + list(paths):
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()[:8]


def classify_paths(paths_or_glob, model, labels=None, *, client=None, batch=8,
                   partition_size=256, topk=5, output=None, format="jsonl",
                   input_size=None, preprocess=None):
    """Builds the Dask job (lazy: compute() it, or client.compute()).

    ``model``/``labels``: paths every worker can read. ``batch``: images per
    forward pass on the workers. ``partition_size``: images per task (and per
    part file). ``format``: "jsonl" (imgclass-watch's records) or "tsv".
    Preprocessing is the model's own recipe by default; ``input_size`` and
    ``preprocess`` override it as for :class:`imgclass.Model` (a dict such
    as ``{"crop": 200}`` changes those fields, a PreprocessOptions replaces
    every field). ``client`` is accepted for symmetry: the bag runs on the
    default client, or pass it to ``client.compute(bag)``.
    """
    import dask
    import dask.bag as db

    if format not in _parts.FORMATS:
        raise ValueError(f"format must be one of {_parts.FORMATS}, got {format!r}")
    for name, v in (("batch", batch), ("partition_size", partition_size), ("topk", topk)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    check_overrides(preprocess)  # a wrong name fails here, not on every worker
    if input_size is not None:
        _pair(input_size, "input_size")
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError("model must be a path every worker can read")
    paths = expand_paths(paths_or_glob)
    if not paths:
        raise ValueError(f"no input files in {paths_or_glob!r}")
    spec = {"model": os.path.abspath(model),
            "labels": os.path.abspath(labels) if labels is not None else None,
            "input_size": _frozen(input_size), "batch": batch, "topk": topk,
            "preprocess": _frozen(preprocess)}
    chunks = [paths[i:i + partition_size] for i in range(0, len(paths), partition_size)]

    if output is None:
        parts = [dask.delayed(_worker.classify_partition, pure=True)(c, spec) for c in chunks]
        return db.from_delayed(parts)

    output = os.path.abspath(output)
    key = job_key(paths, model, partition_size, topk, format, input_size, preprocess)
    start = time.time()
    done = _parts.existing_parts(output, key)
    tasks = []
    for i, c in enumerate(chunks):
        if i in done:  # finished by an earlier run of this job
            tasks.append(dask.delayed(_skipped, pure=True)(i, done[i], len(c)))
        else:
            tasks.append(dask.delayed(_worker.write_partition, pure=True)(
                i, c, spec, output, start, key, format))
    return db.from_delayed([dask.delayed(_as_list, pure=True)(t) for t in tasks])


def _as_list(summary):
    return [summary]


def _skipped(index, part, records):
    """The summary of a part an earlier run wrote, read back from it."""
    errors = 0
    with open(part, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if line.startswith("{") and '"error": ' in line or "\t-1\t" in line:
                errors += 1
    return {"part": part, "index": index, "records": records, "errors": errors,
            "skipped": True}


def local_cluster(n_workers, threads_per_worker=None):
    """A LocalCluster of worker processes whose every socket (scheduler,
    workers, their HTTP endpoints) listens on 127.0.0.1 only; Dask's default
    HTTP address is every interface."""
    from distributed import LocalCluster
    if threads_per_worker is None:
        threads_per_worker = max(1, (os.cpu_count() or 1) // n_workers)
    return LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                        processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                        worker_dashboard_address="127.0.0.1:0")


def worker_load_counts(client):
    """{worker address: models loaded by its process} (for tests, checks)."""
    return client.run(_worker.load_count)
