#!/usr/bin/python3
"""imgclass_classify() on the pipeline (run by `make bench`, or alone): the
one-call API against the pipeline it stands on, from C and from Python.

    classify_bench.py --build BUILD [--model M.pt] [--images DIR] [--count N]
                      [--rounds R] [--out docs/benchmarks.md]

Rows (goals of the "one model, one answer" work):
  C imgclass_classify(), 100 inputs a call  vs  the pipeline's steady state
  Python Model.classify(paths), 100 a call  vs  `imgclass classify`'s own rate
and of the "speed past float32" work, float32 and int8 (the same weights
quantized, tools/export_model.py --quantize int8 --qengine onednn):
  `imgclass classify`'s own rate  vs  the forward pass alone at batch 8
                                      (`pipeline_bench forward`, a ready batch)
  `imgclass classify` int8        vs  `imgclass classify` float32, whole runs of
                                      --count images and of --whole-count (900)
Each round runs them all back to back; the ratio is the median of the
per-round ratios. `--no-int8` leaves the int8 rows out. The machine's load average is printed and written at the
start and the end; a section whose start finds it above --max-load
(bench/measure.py's quiet_section_start) is refused, not written.
The section sits between <!-- classify --> and <!-- /classify -->.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BEGIN, END = "<!-- classify -->", "<!-- /classify -->"
sys.path.insert(0, HERE)
from measure import add_max_load_option, load_phrase, quiet_section_start  # noqa: E402


def driver(build, mode, model, listfile, count, threads, **kw):
    cmd = [os.path.join(build, "bench", "pipeline_bench"), mode, model, listfile,
           "--count", str(count), "--threads", str(threads)]
    for k, v in kw.items():
        cmd += ["--" + k.replace("_", "-"), str(v)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["images_per_s"]


def python_rate(build, model, listfile, count, per_call, threads):
    out = subprocess.run([sys.executable, os.path.join(HERE, "python_classify_calls.py"), build,
                          model, listfile, str(count), str(per_call), str(threads)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["images_per_s"]


def cli_rate(build, model, files, threads):
    """`imgclass classify`'s own figures (model load excluded, as the
    in-process rates above), batches of 8: (the whole run, the steady state
    after its first batch, whose forward pass carries libtorch's one-time
    costs)."""
    r = subprocess.run([os.path.join(build, "imgclass"), "classify", "--model", model, "--tsv",
                        "-b", "8", "-t", str(threads)] + files, check=True, capture_output=True,
                       text=True)
    m = re.search(r"([0-9.]+) images/s, after the first batch ([0-9.]+) images/s", r.stderr)
    if not m:
        raise RuntimeError("no rates in imgclass classify's summary: " + r.stderr[-300:])
    return float(m.group(1)), float(m.group(2))




def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--model", help="default: ResNet-18, seeded random weights, exported here")
    ap.add_argument("--images")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--whole-count", type=int, default=900,
                    help="images of the int8-against-float32 whole runs (default 900: the "
                         "scale of the issue that set the goal)")
    ap.add_argument("--per-call", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-int8", dest="int8", action="store_false",
                    help="leave out the int8 rows (no quantized export)")
    add_max_load_option(ap)
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    args = ap.parse_args()
    start_load = quiet_section_start("classify bench", args.max_load, build=args.build,
                                     drivers=["pipeline_bench"])
    tmp = tempfile.mkdtemp(prefix="imgclass-classify-bench-")
    from inputs import export_model, photo_folder  # noqa: E402
    from measure import median, replace_section  # noqa: E402
    _, photos, what = photo_folder(tmp, args.images)
    own_model = not args.model
    if own_model:
        args.model = os.path.join(tmp, "resnet18-random.pt")
        export_model(args.model)
    elif args.int8:
        # The int8 file is exported from the same seeded weights as our own
        # float32 one; a model of the caller's has no such twin.
        print("classify bench: --model given: no int8 rows", file=sys.stderr)
        args.int8 = False
    n, t, b, m = args.count, args.threads, args.build, args.model
    i8 = None
    if args.int8:
        i8 = os.path.join(tmp, "resnet18-int8.pt")
        export_model(i8, ["--quantize", "int8", "--qengine", "onednn",
                          "--calibrate", os.path.dirname(photos[0]), "--calibrate-count", "32",
                          "--imgclass", os.path.join(b, "imgclass")])
    files = [photos[i % len(photos)] for i in range(n)]
    # Each lane's first batch-8 pass carries libtorch's and oneDNN's
    # one-time work (~80 ms; docs/engine.md, "Engine lanes"): 200 int8
    # images take under a second, so whole runs are also timed at the
    # issue's scale.
    whole_files = [photos[i % len(photos)] for i in range(args.whole_count)]
    listfile = os.path.join(tmp, "list.txt")
    with open(listfile, "w") as f:
        f.write("\n".join(photos) + "\n")
    rows = {"pipeline": [], "c_classify": [], "cli": [], "cli_steady": [], "py_classify": [],
            "forward": []}
    if i8:
        rows.update({"forward_i8": [], "cli_i8": [], "cli_i8_steady": [], "cli_whole": [],
                     "cli_i8_whole": []})
    for r in range(args.rounds):
        rows["pipeline"].append(driver(b, "steady", m, listfile, n, t, batch=8))
        rows["c_classify"].append(driver(b, "classify", m, listfile, n, t,
                                         per_call=args.per_call))
        whole, steady = cli_rate(b, m, files, t)
        rows["cli"].append(whole)
        rows["cli_steady"].append(steady)
        rows["py_classify"].append(python_rate(b, m, listfile, n, args.per_call, t))
        rows["forward"].append(driver(b, "forward", m, listfile, n, t, batch=8))
        if i8:
            rows["forward_i8"].append(driver(b, "forward", i8, listfile, n, t, batch=8))
            whole, steady = cli_rate(b, i8, files, t)
            rows["cli_i8"].append(whole)
            rows["cli_i8_steady"].append(steady)
            rows["cli_whole"].append(cli_rate(b, m, whole_files, t)[0])
            rows["cli_i8_whole"].append(cli_rate(b, i8, whole_files, t)[0])
        print("classify bench: round %d: %s" % (r + 1, {k: round(v[-1], 1)
                                                       for k, v in rows.items()}),
              file=sys.stderr, flush=True)
    loads = load_phrase(start_load, "classify bench")
    c_ratio = median([c / p for c, p in zip(rows["c_classify"], rows["pipeline"])])
    py_ratio = median([p / c for p, c in zip(rows["py_classify"], rows["cli"])])
    ratio = lambda a, b: median([x / y for x, y in zip(rows[a], rows[b])])
    fmt = lambda xs: ", ".join("%.1f" % x for x in xs)
    lines = [BEGIN, "## imgclass_classify on the pipeline", "",
             f"Written by bench/classify_bench.py ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())});"
             f" {loads};"
             f" {what}, cycled to {n} images a run; ResNet-18 (seeded random weights), {t}"
             f" engine threads; {args.rounds} interleaved rounds, ratio = median of the"
             " per-round ratios.", "",
             "| measurement | images/s, each round | ratio | goal |",
             "| --- | --- | ---: | --- |",
             f"| C `imgclass_classify()`, {args.per_call} inputs a call |"
             f" {fmt(rows['c_classify'])} | {c_ratio:.2f} of the pipeline | >= 0.95 |",
             f"| the pipeline, steady state, batch 8 (`pipeline_bench steady`) |"
             f" {fmt(rows['pipeline'])} | 1 | |",
             f"| Python `Model.classify(paths)`, {args.per_call} paths a call |"
             f" {fmt(rows['py_classify'])} | {py_ratio:.2f} of `imgclass classify` | >= 0.95 |",
             f"| `imgclass classify` (its own figure, model load excluded) |"
             f" {fmt(rows['cli'])} | 1 | |", "",
             "`imgclass classify` in its steady state (its own figure after the first batch,"
             " whose forward pass carries libtorch's one-time costs) against the forward pass"
             " alone on a ready batch of 8 (`pipeline_bench forward`: no decoding, no"
             " preprocessing), in float32 and with the same weights quantized to int8 (onednn,"
             " calibrated on 32 of the photos); the whole run's figure beside it:", "",
             "| measurement | images/s, each round | ratio | goal |",
             "| --- | --- | ---: | --- |",
             f"| forward pass alone, batch 8, float32 | {fmt(rows['forward'])} | 1 | |",
             f"| `imgclass classify`, float32, steady state | {fmt(rows['cli_steady'])} |"
             f" {ratio('cli_steady', 'forward'):.2f} of the forward pass | >= 0.92 |",
             f"| `imgclass classify`, float32, whole run | {fmt(rows['cli'])} |"
             f" {ratio('cli', 'forward'):.2f} of the forward pass | |"]
    if i8:
        lines += [f"| forward pass alone, batch 8, int8 | {fmt(rows['forward_i8'])} | 1 | |",
                  f"| `imgclass classify`, int8, steady state | {fmt(rows['cli_i8_steady'])} |"
                  f" {ratio('cli_i8_steady', 'forward_i8'):.2f} of the int8 forward pass |"
                  " >= 0.82 |",
                  f"| `imgclass classify`, int8, whole run | {fmt(rows['cli_i8'])} |"
                  f" {ratio('cli_i8', 'forward_i8'):.2f} of the int8 forward pass | |",
                  f"| `imgclass classify`, int8 against float32, whole runs | |"
                  f" {ratio('cli_i8', 'cli'):.2f}x | |",
                  f"| `imgclass classify`, float32, whole run of {args.whole_count} images |"
                  f" {fmt(rows['cli_whole'])} | | |",
                  f"| `imgclass classify`, int8, whole run of {args.whole_count} images |"
                  f" {fmt(rows['cli_i8_whole'])} | | |",
                  f"| `imgclass classify`, int8 against float32, whole runs of"
                  f" {args.whole_count} images | | {ratio('cli_i8_whole', 'cli_whole'):.2f}x |"
                  " >= 2.8x |",
                  f"| `imgclass classify`, int8 against float32, steady states | |"
                  f" {ratio('cli_i8_steady', 'cli_steady'):.2f}x | |"]
    lines.append(END)
    text = "\n".join(lines)
    print(text)
    replace_section(args.out, BEGIN, END, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
