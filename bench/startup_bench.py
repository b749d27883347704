#!/usr/bin/python3
"""Start-up costs, measured with hyperfine: what a process pays before it
does any work, now that libtorch is a module loaded on the first model load.

  1. `imgclass --help`;
  2. `imgclass preprocess --npy` on one photo (wall time and peak RSS);
  3. `imgclass preprocess` over the photos in chunks of 100 (one process
     per chunk, process start included) against Pillow + torchvision in one
     Python process (its start and imports included) writing the same .npy
     chunks;
  4. a program that loads a model: the engine module against the same core
     with the engine linked in directly (the build before the split): the
     first engine call (the dlopen), model load, batch-1 predict, and the
     whole process;
  5. the cold start (issue 27): `imgclass classify` of one photo with
     ResNet-18, the whole process, with the model cache warm and with
     --no-cache, against Python importing torch, loading the model with
     torch.jit.load and running one forward pass, in one hyperfine run; and
     how long imgclass-serve takes from its start to answering /ping 200
     (the model loaded and warm, the cache warm).

Returns a Markdown section; `make bench` (bench/run.py) puts it into
docs/benchmarks.md, and `make bench-startup` runs it alone and replaces that
section in place. Like every section of `make bench`, it is refused (nothing
measured or written) when the load average at its start exceeds --max-load
(bench/measure.py's quiet_section_start), and records the load at its start
and end:

    startup_bench.py --build BUILD [--runs N] [--images N] [--update FILE]
                     [--max-load L]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from inputs import export_model, photo_folder  # noqa: E402
from python_bench import BEGIN as PYTHON_BEGIN  # noqa: E402
from measure import (QUIET_LOAD, add_max_load_option, load_phrase, median,  # noqa: E402
                     quiet_section_start, run_measured)

BEGIN = "<!-- startup_bench.py: begin -->"
END = "<!-- startup_bench.py: end -->"
CHUNK = 100

REFERENCE = r'''
import sys, numpy as np, torch
from PIL import Image
from torchvision import transforms as T
out, files = sys.argv[1], open(sys.argv[2]).read().splitlines()
t = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
               T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
for c in range(0, len(files), %d):
    batch = torch.stack([t(Image.open(f).convert("RGB")) for f in files[c:c + %d]])
    np.save("%%s/py%%d.npy" %% (out, c), batch.numpy())
''' % (CHUNK, CHUNK)


def hyperfine(commands, runs, warmup=1):
    """Mean and standard deviation (seconds) of each command (a list of
    argv lists), interleaved by hyperfine itself in one run."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = ["hyperfine", "-N", "--style", "none", "--warmup", str(warmup), "--runs",
               str(runs), "--export-json", out.name]
        cmd += [" ".join(_quote(a) for a in c) for c in commands]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        data = json.load(open(out.name))
    return [(r["mean"], r["stddev"] or 0.0, r["median"]) for r in data["results"]]


def _quote(arg):
    return arg if re.fullmatch(r"[\w@%+=:,./-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


# Python's cold start: what a Python program pays to answer for one image.
PYTHON_COLD = r'''
import sys, torch
model = torch.jit.load(sys.argv[1])
with torch.no_grad():
    model(torch.zeros(1, 3, 224, 224))
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_ready_ms(serve, model, env, timeout_s=60):
    """Milliseconds from starting imgclass-serve on `model` to its first
    /ping 200 (polled every 10 ms); None when it never answers 200."""
    port, metrics = free_port(), free_port()
    started = time.monotonic()
    proc = subprocess.Popen([serve, "--model", "m=" + model, "--listen", "127.0.0.1:%d" % port,
                             "--metrics-listen", "127.0.0.1:%d" % metrics, "--quiet"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.monotonic() - started < timeout_s and proc.poll() is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/ping")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return (time.monotonic() - started) * 1e3
            except OSError:
                pass
            time.sleep(0.01)
        return None
    finally:
        proc.terminate()
        proc.wait()


def photos(tmp, count):
    _, files, what = photo_folder(tmp, count=100)
    # The photo list repeated to `count` files, as a data set of that size.
    return (files * (count // len(files) + 1))[:count], what


def bench(build, runs, count, py, max_load=QUIET_LOAD):
    """The section's Markdown; exits (refused) on a loaded machine."""
    start_load = quiet_section_start("startup bench", max_load, build=build,
                                     drivers=["engine_load_bench", "engine_load_bench_linked"])
    tmp = tempfile.mkdtemp(prefix="imgclass-startup-")
    try:
        return _bench(build, runs, count, py, tmp, start_load)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bench(build, runs, count, py, tmp, start_load):
    cli = os.path.join(build, "imgclass")
    files, what = photos(tmp, count)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = []

    (help_mean, help_sd, _), = hyperfine([[cli, "--help"]], runs * 10, warmup=5)
    rows.append(("`imgclass --help`, wall ms", help_mean * 1e3, help_sd * 1e3, "<= 15 ms",
                 help_mean * 1e3 <= 15))

    one = [cli, "preprocess", "--npy", os.path.join(tmp, "one.npy"), files[0]]
    (one_mean, one_sd, _), = hyperfine([one], runs * 10, warmup=3)
    one_rss = max(run_measured(one)[1] for _ in range(5)) / 2**20
    rows.append(("`imgclass preprocess --npy` one photo, wall ms", one_mean * 1e3, one_sd * 1e3,
                 "<= 30 ms", one_mean * 1e3 <= 30))
    rows.append(("`imgclass preprocess --npy` one photo, peak RSS MiB", one_rss, 0.0,
                 "<= 30 MB", one_rss <= 30))

    # Chunks of 100: one imgclass process per chunk, from one shell script.
    script = os.path.join(tmp, "chunks.sh")
    with open(script, "w") as f:
        for c in range(0, len(files), CHUNK):
            f.write(" ".join(_quote(a) for a in
                             [cli, "preprocess", "--npy", os.path.join(tmp, "c%d.npy" % c)]
                             + files[c:c + CHUNK]) + " || exit 1\n")
    ref = os.path.join(tmp, "reference.py")
    with open(ref, "w") as f:
        f.write(REFERENCE)
    listing = os.path.join(tmp, "files.txt")
    with open(listing, "w") as f:
        f.write("\n".join(files) + "\n")
    (ours, ours_sd, _), (theirs, theirs_sd, _) = hyperfine([["sh", script], [py, ref, tmp, listing]],
                                                           runs)
    ratio = theirs / ours

    # The engine: module against linked-in, in the same run.
    model = os.path.join(tmp, "resnet18-random.pt")
    export_model(model, py=py)
    drivers = {"module": os.path.join(build, "bench", "engine_load_bench"),
               "linked": os.path.join(build, "bench", "engine_load_bench_linked")}
    inner = {k: [] for k in drivers}
    for _ in range(runs):
        for k, d in drivers.items():
            text = subprocess.run([d, model, "--iters", "10"], check=True, capture_output=True,
                                  text=True).stdout
            inner[k].append({m.group(1): float(m.group(2))
                             for m in re.finditer(r"(\w+)=([0-9.]+)", text)})
    (mod_wall, mod_sd, _), (lnk_wall, lnk_sd, _) = hyperfine(
        [[drivers["module"], model, "--iters", "10"], [drivers["linked"], model, "--iters", "10"]],
        runs)

    def med(k, field):
        return median([r[field] for r in inner[k]])

    # The cold start, one photo. The cache is filled by one run first
    # (hyperfine's warm-up run would fill it too).
    cache = os.path.join(tmp, "model-cache")
    with_cache = ["env", "IMGCLASS_CACHE_DIR=" + cache, cli, "classify", "--model", model, files[0]]
    subprocess.run(with_cache, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    py_cold = os.path.join(tmp, "python_cold.py")
    with open(py_cold, "w") as f:
        f.write(PYTHON_COLD)
    (hit, hit_sd, _), (nocache, nocache_sd, _), (pyt, pyt_sd, _) = hyperfine(
        [with_cache, [cli, "classify", "--no-cache", "--model", model, files[0]],
         [py, py_cold, model]], runs)
    rows.append(("`imgclass classify` one photo, ResNet-18, model cache warm, whole process, "
                 "wall ms", hit * 1e3, hit_sd * 1e3, "<= 1000 ms", hit * 1e3 <= 1000))
    rows.append(("the same with `--no-cache`, wall ms", nocache * 1e3, nocache_sd * 1e3, "-", None))
    rows.append(("Python: `import torch`, `torch.jit.load`, one forward, wall ms", pyt * 1e3,
                 pyt_sd * 1e3, "-", None))
    rows.append(("Python / `imgclass classify` (cache warm), times", pyt / hit, 0.0, ">= 2x",
                 pyt / hit >= 2))
    env = dict(os.environ, IMGCLASS_CACHE_DIR=cache)
    ready = [serve_ready_ms(os.path.join(build, "imgclass-serve"), model, env)
             for _ in range(runs)]
    if None in ready:
        raise RuntimeError("imgclass-serve never answered /ping 200")
    ready_med = median(ready)
    ready_sd = (sum((r - ready_med) ** 2 for r in ready) / len(ready)) ** 0.5
    rows.append(("`imgclass-serve`, start to `/ping` 200 (ResNet-18 loaded, warm), median ms",
                 ready_med, ready_sd, "<= 1200 ms", ready_med <= 1200))

    loads = load_phrase(start_load, "startup bench")

    lines = [
        BEGIN,
        "## Start-up: the engine as a module",
        "",
        "Written by bench/startup_bench.py (`make bench`, or `make bench-startup` for this",
        f"section alone) with hyperfine; {runs} runs each (10x that for the short commands),",
        "interleaved in one run; mean +- standard deviation; only figures of one run are",
        "compared.",
        "",
        f"Measured {started} on {os.cpu_count()} CPUs; {loads}.",
        "",
        "| measurement | imgclass | +- | goal | met |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for name, v, sd, goal, met in rows:
        verdict = "-" if met is None else "yes" if met else "NO"
        lines.append(f"| {name} | {v:.1f} | {sd:.1f} | {goal} | {verdict} |")
    lines += [
        "",
        "The cold start rows: a fresh process classifies one photo with ResNet-18 (seeded",
        "random weights, 45 MB), everything included (libtorch's start, the model's load",
        "and shape check, decoding, the forward pass, the exit), with the model cache",
        "filled by an earlier run (`IMGCLASS_CACHE_DIR`) and without it (`--no-cache`),",
        "against Python (`import torch`, `torch.jit.load`, one forward pass on a zero",
        "batch) in the same hyperfine run; then imgclass-serve started on the same model",
        f"{runs} times, the time to its first `/ping` 200 (polled every 10 ms), when the",
        "model is loaded and warmed. docs/engine.md (\"Cold start\") says where the time",
        "goes.",
        "",
        f"Preprocessing {len(files)} files ({what}, repeated) in chunks of {CHUNK}: one",
        "`imgclass preprocess --npy` process per chunk, process start included, against one",
        "Python process (interpreter start and imports included) that runs Pillow +",
        "torchvision (Resize(256), CenterCrop(224), ToTensor, Normalize) and writes the same",
        "chunks with `numpy.save`. Both preprocess on one thread.",
        "",
        "| subject | wall s | +- |",
        "| --- | ---: | ---: |",
        f"| imgclass, {len(files) // CHUNK} processes | {ours:.2f} | {ours_sd:.2f} |",
        f"| Pillow + torchvision, 1 process | {theirs:.2f} | {theirs_sd:.2f} |",
        "",
        f"Ratio: imgclass is **{ratio:.2f}x** as fast (goal >= 2.5x:"
        f" {'met' if ratio >= 2.5 else 'NOT met'}).",
        "",
        "A program that loads ResNet-18 (seeded random weights) twice and runs 10 batch-1",
        "predictions, 2 threads: `libimgclass` as shipped, which dlopen()s the engine module",
        "on its first engine call, against the same core with the engine linked in directly",
        "(bench/engine_load_bench.c, built both ways). Times inside the process are medians;",
        "\"first engine call\" is the dlopen of libimgclass-torch.so with libtorch's",
        "initialisation, which the linked build pays before `main` instead.",
        "",
        "| measurement | module | linked in | module / linked |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, field in [("first engine call (dlopen), ms", "engine_ms"),
                         ("first model load, ms", "first_load_ms"),
                         ("second model load, ms", "second_load_ms"),
                         ("predict batch 1, ms", "predict_ms")]:
        a, b = med("module", field), med("linked", field)
        ratio = f"{a / b:.2f}" if b >= 0.01 else "-"
        lines.append(f"| {label} | {a:.2f} | {b:.2f} | {ratio} |")
    lines.append(f"| whole process, wall ms (hyperfine) | {mod_wall * 1e3:.0f} +- {mod_sd * 1e3:.0f}"
                 f" | {lnk_wall * 1e3:.0f} +- {lnk_sd * 1e3:.0f} | {mod_wall / lnk_wall:.2f} |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def replace_section(path, section):
    text = open(path).read() if os.path.exists(path) else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    elif PYTHON_BEGIN in text:
        # Before the Python section, the order make bench writes.
        head, tail = text.split(PYTHON_BEGIN, 1)
        text = head.rstrip("\n") + "\n\n" + section + "\n" + PYTHON_BEGIN + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--images", type=int, default=900,
                    help="files preprocessed in chunks of 100 (the photos, repeated)")
    ap.add_argument("--update", help="replace this section in a Markdown file")
    add_max_load_option(ap)
    args = ap.parse_args()
    if not shutil.which("hyperfine"):
        print("startup_bench: hyperfine is not installed (sh tools/deps.sh)", file=sys.stderr)
        return 1
    section = bench(args.build, args.runs, args.images, sys.executable, args.max_load)
    if args.update:
        replace_section(args.update, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
