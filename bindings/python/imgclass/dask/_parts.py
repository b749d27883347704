"""Part files in imgclass-watch's layout and record format, written so that
a retried task never leaves a duplicate or a partial part.

    OUT/dt=YYYY-MM-DD/hour=HH/part-<job start>-<job key>-<partition>.jsonl

The name is fixed when the job is built (the job's start time and key, the
partition's index), so a task that runs twice (Dask retries it when its
worker dies) writes the same name again. The records go to a dotfile
``.part-….<random>.inprogress`` (readers skip it), are fsynced, and the
file is renamed into place: readers see the whole part or none of it.
"""
import datetime
import json
import os
import uuid

FORMATS = ("jsonl", "tsv")


def utc_stamp(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


def iso_time(t):
    """2026-11-27T14:00:03.112Z, as imgclass-watch writes "time"."""
    d = utc_stamp(t)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def part_folder(output, start):
    d = utc_stamp(start)
    return os.path.join(output, d.strftime("dt=%Y-%m-%d"), d.strftime("hour=%H"))


def part_name(start, key, index, fmt):
    return f"part-{utc_stamp(start).strftime('%Y%m%dT%H%M%SZ')}-{key}-{index:06d}.{fmt}"


def format_record(r, fmt):
    """One line: the JSON of `imgclass classify --json` plus "time" (the
    imgclass-watch record), or path, index, label, probability as TSV."""
    if fmt == "jsonl":
        if r["error"] is not None:
            rec = {"path": r["path"], "time": r["time"], "error": r["error"]}
        else:
            top = []
            for t in r["top"]:
                c = {"index": t[0]}
                if t[1] is not None:
                    c["label"] = t[1]
                c["probability"] = float(f"{t[2]:.9g}")
                top.append(c)
            rec = {"path": r["path"], "time": r["time"], "top": top}
        return json.dumps(rec, ensure_ascii=False) + "\n"
    clean = lambda s: str(s).replace("\t", " ").replace("\n", " ")  # noqa: E731
    if r["error"] is not None:
        return f"{clean(r['path'])}\t-1\t{clean(r['error'])}\tnan\n"
    return f"{clean(r['path'])}\t{r['index']}\t{clean(r['label'] or '')}\t{r['probability']:.9g}\n"


def write_part(folder, name, records, fmt):
    """Writes the part atomically; returns its final path."""
    os.makedirs(folder, exist_ok=True)
    final = os.path.join(folder, name)
    tmp = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.inprogress")
    try:
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.writelines(format_record(r, fmt) for r in records)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return final


def existing_parts(output, key):
    """{partition index: path} of the parts a run of job `key` finished."""
    done = {}
    if not os.path.isdir(output):
        return done
    marker = f"-{key}-"
    for dt in os.listdir(output):
        d = os.path.join(output, dt)
        if not dt.startswith("dt=") or not os.path.isdir(d):
            continue
        for hour in os.listdir(d):
            h = os.path.join(d, hour)
            if not hour.startswith("hour=") or not os.path.isdir(h):
                continue
            for name in os.listdir(h):
                if name.startswith("part-") and marker in name:
                    idx = name.split(marker, 1)[1].split(".", 1)[0]
                    if idx.isdigit():
                        done[int(idx)] = os.path.join(h, name)
    return done


def remove_leftovers(output, key):
    """Deletes in-progress files of job `key` (tasks killed mid-write)."""
    removed = 0
    marker = f"-{key}-"
    for root, _, files in os.walk(output):
        for name in files:
            if name.startswith(".part-") and marker in name and name.endswith(".inprogress"):
                try:
                    os.unlink(os.path.join(root, name))
                    removed += 1
                except OSError:
                    pass
    return removed
