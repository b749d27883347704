#!/usr/bin/python3
"""`make bench`: imgclass against the Python pipeline, in one run, on the
same images, model file and thread count, and a table of ratios written to
docs/benchmarks.md.

  1. preprocessing only, one thread: imgclass exact, imgclass fast,
     PIL + torchvision (CPU ms per image, encoded images held in memory);
  2. predict only, 2 threads, batch 1 and 8: the library, Python
     torch.jit.load + inference_mode, a bare libtorch C++ forward;
  3. end to end: `imgclass classify` on a folder against the standard Python
     script, both writing result files, with top-1 agreement per image;
  4. peak RSS of every process measured;
  5. the Python binding (bench/python_bench.py): against the CLI, the
     Python pipeline and torchvision's DataLoader transform;
  6. start-up costs with the engine as a module (bench/startup_bench.py).

Every figure is the median of interleaved rounds (so a burst of load hits
all subjects alike); only ratios from this one run are compared. Each of the
three sections (the comparison, start-up, the Python binding) starts with
bench/measure.py's quiet_section_start: on a machine whose load average
exceeds --max-load at a section's start the run is refused and nothing is
written. The sections go between <!-- run.py --> and <!-- /run.py --> in
--out; the sections of the other benchmarks there are kept.

    run.py --build BUILD [--rounds N] [--out docs/benchmarks.md] [--max-load L]
"""
import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from measure import (QUIET_LOAD, add_max_load_option, load_phrase, median,  # noqa: E402
                     quiet_section_start, replace_section, run_measured)
from python_bench import python_section  # noqa: E402
import startup_bench  # noqa: E402
from inputs import export_model, photo_folder  # noqa: E402

BEGIN, END = "<!-- run.py -->", "<!-- /run.py -->"


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def timed(cmd):
    """(stdout text, peak RSS bytes) of one run of cmd."""
    with tempfile.TemporaryFile(mode="w+") as out:
        _, rss = run_measured(cmd, stdout=out)
        out.seek(0)
        return out.read(), rss


RATE = re.compile(r": ([0-9.]+) img/s")


def rate_of(text):
    m = RATE.search(text)
    if not m:
        raise RuntimeError("no img/s figure in: " + text)
    return float(m.group(1))


def bench_preprocess(build, files, rounds, py):
    driver = os.path.join(build, "bench", "preprocess_bench")
    subjects = {
        "exact": [driver, "--reps", "3"] + files,
        "fast": [driver, "--fast", "--reps", "3"] + files,
        "ref": [py, os.path.join(HERE, "preprocess_bench.py"), "--reps", "3"] + files,
        # torchvision's bicubic recipes (EfficientNet-B0: Resize(256, BICUBIC),
        # CenterCrop(224)), issue 18
        "bicubic": [driver, "--bicubic", "--reps", "3"] + files,
        "ref_bicubic": [py, os.path.join(HERE, "preprocess_bench.py"), "--reps", "3",
                        "--bicubic"] + files,
    }
    ms = {k: [] for k in subjects}
    rss = {k: 0 for k in subjects}
    for _ in range(rounds):
        for k, cmd in subjects.items():
            text, r = timed(cmd)
            ms[k].append(float(text.strip()))
            rss[k] = max(rss[k], r)
    m = {k: median(v) for k, v in ms.items()}
    rows = [
        ("preprocess, exact: CPU ms/image, 1 thread", m["exact"], m["ref"], m["ref"] / m["exact"],
         ">= 2.5x"),
        ("preprocess, fast (inexact): CPU ms/image, 1 thread", m["fast"], m["ref"],
         m["ref"] / m["fast"], "-"),
        ("preprocess, bicubic (EfficientNet-B0 recipe), exact: CPU ms/image, 1 thread",
         m["bicubic"], m["ref_bicubic"], m["ref_bicubic"] / m["bicubic"], ">= 2x"),
    ]
    return rows, rss


def bench_predict(build, model, threads, rounds, seconds, py):
    lib = os.path.join(build, "bench", "predict_bench")
    bare = os.path.join(build, "bench", "bare_forward")
    rows, rss = [], {"library": 0, "python": 0, "bare": 0}
    for batch in (1, 8):
        common = ["--batch", str(batch), "--threads", str(threads), "--seconds", str(seconds)]
        subjects = {
            "library": [lib, model] + common + ["--optimize", "default"],
            "python": [py, os.path.join(HERE, "predict_bench.py"), model] + common,
            # The library's default configuration, IMGCLASS_OPTIMIZE_DEFAULT.
            "bare": [bare, model] + common + ["--for-inference"],
        }
        rates = {k: [] for k in subjects}
        for _ in range(rounds):
            for k, cmd in subjects.items():
                text, r = timed(cmd)
                rates[k].append(rate_of(text))
                rss[k] = max(rss[k], r)
        m = {k: median(v) for k, v in rates.items()}
        rows.append((f"predict, batch {batch}: images/s vs Python torch.jit.load, {threads} threads",
                     m["library"], m["python"], m["library"] / m["python"],
                     ">= 1.8x" if batch == 8 else "-"))
        rows.append((f"predict, batch {batch}: images/s vs bare libtorch C++ forward, {threads} threads",
                     m["library"], m["bare"], m["library"] / m["bare"], ">= 0.97"))
    return rows, rss


def bench_e2e(build, model, folder, threads, rounds, py):
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    cmd = [py, os.path.join(HERE, "e2e_bench.py"), "--imgclass", os.path.join(build, "imgclass"),
           "--model", model, "--images", folder, "--threads", str(threads),
           "--reps", str(rounds), "--out", out]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    sys.stderr.write(proc.stdout + proc.stderr)
    import json
    with open(out) as f:
        result = json.load(f)
    os.unlink(out)
    rows = [(r["what"], r["imgclass"], r["reference"], r["ratio"], r["goal"])
            for r in result["rows"]]
    return rows, result, proc.returncode


def fmt(v):
    return "%.3f" % v if v < 100 else "%.1f" % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0, help="per predict measurement")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    add_max_load_option(ap)
    args = ap.parse_args()
    py = sys.executable
    start_load = quiet_section_start("bench", args.max_load, build=args.build,
                                     drivers=["preprocess_bench", "predict_bench", "bare_forward"])

    tmp = tempfile.mkdtemp(prefix="imgclass-bench-")
    folder, files, what = photo_folder(tmp)
    model = os.path.join(tmp, "resnet18-random.pt")
    export_model(model, py=py)

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"bench: {what}; {args.rounds} interleaved rounds", file=sys.stderr)
    pre_rows, pre_rss = bench_preprocess(args.build, files, args.rounds, py)
    print("bench: preprocessing done", file=sys.stderr)
    pred_rows, pred_rss = bench_predict(args.build, model, args.threads, args.rounds,
                                        args.seconds, py)
    print("bench: predict done", file=sys.stderr)
    e2e_rows, e2e, e2e_rc = bench_e2e(args.build, model, folder, args.threads, args.rounds, py)
    print("bench: end to end done", file=sys.stderr)
    loads = load_phrase(start_load, "bench")
    py_lines, py_ok = python_section(args.build, model, folder, files, args.threads,
                                     args.rounds, py, args.max_load)
    print("bench: Python binding done", file=sys.stderr)
    startup = startup_bench.bench(args.build, max(args.rounds, 5), 900, py, args.max_load)

    lines = [
        BEGIN,
        "Written by `make bench` (bench/run.sh, this part by bench/run.py); rerun it to",
        "refresh. Every figure is the median of interleaved rounds measured in one run, and",
        "only the ratios of one section are meant to be compared.",
        "",
        "Every section below records the machine's 1-minute load average at its start and",
        "at its end (the end includes the benchmark's own threads). A section whose start",
        f"finds it above {QUIET_LOAD:.1f} is refused, not written (the earlier one stays),",
        "unless the limit is raised on purpose (`--max-load`, `IMGCLASS_BENCH_MAX_LOAD`);",
        "such a section says \"measured under load\".",
        "",
        "Each section after this part is written by its own script, all run by `make bench`",
        "(bench/run.sh); `make bench-startup` and `make bench-serve-fleet` (imgclass-serve",
        "in a fleet: v2 protocol, hot swap, TLS) each refresh one section alone.",
        "",
        f"- measured: {started}; {loads}",
        f"- machine: {cpu_name()}, {os.cpu_count()} CPUs, Linux {platform.release()}",
        f"- images: {what}",
        "- model: ResNet-18 with seeded random weights (tools/export_model.py --random-seed 0),"
        " the same file for every subject",
        f"- threads: preprocessing 1; predict and end to end {args.threads}",
        "",
        "Ratio: how many times faster imgclass is than the reference (for peak RSS:",
        "imgclass / reference, lower is better).",
        "",
        "| measurement | imgclass | reference | ratio | goal |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for what_, ours, ref, ratio, goal in pre_rows + pred_rows + e2e_rows:
        lines.append(f"| {what_} | {fmt(ours)} | {fmt(ref)} | {ratio:.2f} | {goal} |")
    lines += [
        "",
        "References: preprocessing, PIL + torchvision (Resize(256), CenterCrop(224), ToTensor,",
        "Normalize; the bicubic row with Resize(256, BICUBIC), EfficientNet-B0's recipe); predict, Python `torch.jit.load` + `inference_mode` and a bare libtorch",
        "C++ forward in the library's configuration (bench/bare_forward.cpp); end to end,",
        "bench/e2e_reference.py (Pillow, torchvision, batch, forward, softmax, top-1, one line",
        "per image to a file) against `imgclass classify --tsv` on the same folder.",
        "",
        f"End-to-end top-1 agreement: {e2e['top1_agreement']} of {e2e['images']} images"
        f" ({e2e['classified_by_both']} classified by both).",
        "",
        "Peak RSS of each process (MiB, the largest over the rounds):",
        "",
        "| process | peak RSS MiB |",
        "| --- | ---: |",
    ]
    for name, v in [("preprocess driver, exact", pre_rss["exact"]),
                    ("preprocess driver, fast", pre_rss["fast"]),
                    ("PIL + torchvision preprocessing", pre_rss["ref"]),
                    ("predict, library driver", pred_rss["library"]),
                    ("predict, Python torch.jit.load", pred_rss["python"]),
                    ("predict, bare libtorch C++", pred_rss["bare"])]:
        lines.append(f"| {name} | {v / 2**20:.0f} |")
    for r in e2e_rows:
        if "RSS" in r[0]:
            lines.append(f"| end to end, imgclass classify | {r[1]:.0f} |")
            lines.append(f"| end to end, Python pipeline | {r[2]:.0f} |")
    # The start-up section before the Python one, where
    # startup_bench.py --update also puts it.
    text = "\n".join(lines) + "\n\n" + startup + "\n" + "\n".join(py_lines) + "\n" + END
    replace_section(args.out, BEGIN, END, text)
    print(text)
    if e2e_rc != 0:
        print("bench: end-to-end top-1 agreement is not 100%", file=sys.stderr)
    if not py_ok:
        print("bench: the Python binding's top-1 agreement is not 100%", file=sys.stderr)
    return e2e_rc or (0 if py_ok else 1)


if __name__ == "__main__":
    sys.exit(main())
