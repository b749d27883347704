"""The Python binding's benchmarks, a section of `make bench` (run.py calls
python_section()). Every subject is a whole process measured the same way
(bench/measure.py), in interleaved rounds; only ratios of one run compare.

  1. the binding against `imgclass classify --tsv` on the same files, model
     and threads (whole processes: start-up, model load, results to a file);
  2. model.classify against the Python pipeline (e2e_reference.py: Pillow,
     torchvision, torch.jit);
  3. 4 Python threads sharing one model against 1 (the GIL is released);
  4. a DataLoader over imgclass.torch.ImageFolder against torchvision's
     ImageFolder with the eval transform, same workers and batch size.

Refused (nothing measured or written) when the load average at its start
exceeds the limit (bench/measure.py's quiet_section_start); the section
records the load at its start and end, between the markers below.
"""
import ctypes
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from measure import (QUIET_LOAD, add_max_load_option, load_phrase, median,  # noqa: E402
                     quiet_section_start, replace_section, run_measured)

BEGIN = "<!-- python_bench.py: begin -->"
END = "<!-- python_bench.py: end -->"


def _env(build):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(REPO, "bindings", "python")
    env["IMGCLASS_LIBRARY"] = os.path.abspath(os.path.join(build, "libimgclass.so"))
    return env


def _top1(path):
    out = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= 3 and p[1] not in ("error", "-1"):
                out[p[0]] = int(p[1])
    return out


def _rounds(subjects, rounds, env):
    """Median seconds of each subject over interleaved rounds."""
    times = {k: [] for k in subjects}
    for _ in range(rounds):
        for k, cmd in subjects.items():
            times[k].append(run_measured(cmd, env=env)[0])
    return {k: median(v) for k, v in times.items()}


def _has_pipeline(build):
    lib = ctypes.CDLL(os.path.abspath(os.path.join(build, "libimgclass.so")))
    return hasattr(lib, "imgclass_pipeline_create")


def python_section(build, model, folder, files, threads, rounds, py, max_load=QUIET_LOAD):
    """(markdown lines, ok) for docs/benchmarks.md, from BEGIN to END; exits
    (refused) on a loaded machine."""
    start_load = quiet_section_start("python bench", max_load, build=build)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    env = _env(build)
    tmp = tempfile.mkdtemp(prefix="imgclass-pybench-")
    n = len(files)
    out = {k: os.path.join(tmp, k + ".tsv") for k in ("cli", "classify", "pipeline", "ref")}
    script = os.path.join(HERE, "python_classify.py")
    common = ["--threads", str(threads), "--batch", "8"]
    cli = os.path.join(build, "imgclass")
    subjects = {
        "cli": ["sh", "-c", f'exec "$0" "$@" > {out["cli"]}', cli, "classify", "--model", model,
                "--tsv", "--no-progress", "--threads", str(threads), "--batch", "8", folder],
        "classify": [py, script, model, out["classify"]] + common + files,
        "ref": [py, os.path.join(HERE, "e2e_reference.py"), model, out["ref"]] + common + files,
    }
    if _has_pipeline(build):
        subjects["pipeline"] = [py, script, model, out["pipeline"], "--mode", "pipeline"] + \
            common + files
    t = _rounds(subjects, rounds, env)
    rate = {k: n / v for k, v in t.items()}
    print("bench: python end to end done", file=sys.stderr)

    # Threads: 1 engine and 1 preprocessing thread per call, so the only
    # parallelism is Python threads calling into C at once.
    per_call = ["--threads", "1", "--preprocess-threads", "1", "--batch", "4"]
    scaling = _rounds({
        "one": [py, script, model, os.path.join(tmp, "t1.tsv"), "--callers", "1"] + per_call + files,
        "four": [py, script, model, os.path.join(tmp, "t4.tsv"), "--callers", "4"] + per_call + files,
    }, rounds, env)
    print("bench: python threads done", file=sys.stderr)

    root = os.path.join(tmp, "folder")
    os.makedirs(os.path.join(root, "images"))
    for f in files:
        os.symlink(os.path.abspath(f), os.path.join(root, "images", os.path.basename(f)))
    loader = os.path.join(HERE, "python_dataloader.py")
    workers = 2
    dl = {"imgclass": [], "torchvision": [], "imgclass-fast": []}
    for _ in range(rounds):
        for kind in dl:
            with tempfile.TemporaryFile(mode="w+") as f:
                run_measured([py, loader, kind, root, "--workers", str(workers)], env=env,
                             stdout=f)
                f.seek(0)
                dl[kind].append(float(re.search(r": ([0-9.]+) img/s", f.read()).group(1)))
    dl = {k: median(v) for k, v in dl.items()}
    print("bench: python dataloader done", file=sys.stderr)

    loads = load_phrase(start_load, "python bench")
    ours, ref = _top1(out["classify"]), _top1(out["ref"])
    agree = sum(1 for p, i in ours.items() if ref.get(p) == i)
    cli_top = _top1(out["cli"])
    agree_cli = sum(1 for p, i in ours.items() if cli_top.get(p) == i)

    rows = []
    if "pipeline" in rate:
        rows.append((f"binding `model.pipeline().map` vs `imgclass classify`: images/s, "
                     f"{threads} threads", rate["pipeline"], rate["cli"],
                     rate["pipeline"] / rate["cli"], ">= 0.95"))
    rows.append((f"binding `model.classify` (batches of 8) vs `imgclass classify`: images/s, "
                 f"{threads} threads", rate["classify"], rate["cli"],
                 rate["classify"] / rate["cli"], "-" if "pipeline" in rate else ">= 0.95"))
    rows.append((f"binding `model.classify` vs Python pipeline (Pillow + torchvision + "
                 f"torch.jit): images/s, {threads} threads", rate["classify"], rate["ref"],
                 rate["classify"] / rate["ref"], "-"))
    rows.append(("4 Python threads vs 1 calling `model.classify` (1 engine + 1 preprocess "
                 "thread per call): images/s", n / scaling["four"], n / scaling["one"],
                 scaling["one"] / scaling["four"], "> 1 with >= 2 cores"))
    rows.append((f"DataLoader, `imgclass.torch.ImageFolder` vs torchvision `ImageFolder`: "
                 f"images/s, {workers} workers, batch 32", dl["imgclass"], dl["torchvision"],
                 dl["imgclass"] / dl["torchvision"], ">= 2.5x"))
    rows.append((f"DataLoader, as above with `Transform(fast=True)` (inexact): images/s, "
                 f"{workers} workers", dl["imgclass-fast"], dl["torchvision"],
                 dl["imgclass-fast"] / dl["torchvision"], "-"))

    def fmt(v):
        return "%.3f" % v if v < 100 else "%.1f" % v

    lines = [
        BEGIN,
        "## Python binding",
        "",
        f"Measured {started} ({rounds} rounds, {n} images); {loads}.",
        "",
        "bench/python_bench.py: whole processes (interpreter start-up, model load, one",
        "result line per image written to a file) on the same files, model and threads:",
        "bench/python_classify.py (the binding), `imgclass classify --tsv`, and",
        "bench/e2e_reference.py; DataLoader figures from bench/python_dataloader.py",
        "(persistent workers, a warm-up epoch, then two timed epochs).",
        "",
        "| measurement | binding | reference | ratio | goal |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    lines += [f"| {w} | {fmt(a)} | {fmt(b)} | {r:.2f} | {g} |" for w, a, b, r, g in rows]
    lines += [
        "",
        f"Top-1 agreement of `model.classify`: {agree} of {len(ours)} images with the Python",
        f"pipeline, {agree_cli} of {len(ours)} with `imgclass classify`.",
        END,
    ]
    return lines, agree == len(ours) == len(ref)


def main():
    """Only this section: python_bench.py [--build B] [--rounds N] [--images DIR]
    [--update docs/benchmarks.md] (replaces the section there, or appends it)."""
    import argparse
    ap = argparse.ArgumentParser(description="the Python binding's section of make bench")
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", help="default: the sample photos, else generated JPEGs")
    ap.add_argument("--update", metavar="DOC", help="write the section into DOC")
    add_max_load_option(ap)
    args = ap.parse_args()
    # Refused before any work, not only after the model export.
    quiet_section_start("python bench", args.max_load, build=args.build)
    tmp = tempfile.mkdtemp(prefix="imgclass-pybench-")
    from inputs import export_model, photo_folder
    folder, files, _ = photo_folder(tmp, args.images)
    model = os.path.join(tmp, "resnet18-random.pt")
    export_model(model)
    lines, ok = python_section(args.build, model, folder, files, args.threads, args.rounds,
                               sys.executable, args.max_load)
    lines[3] = "Section measured on its own (not in a `make bench` run). " + lines[3]
    print("\n".join(lines))
    if args.update:
        replace_section(args.update, BEGIN, END, "\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
