#!/usr/bin/python3
"""`make bench`, int8: ResNet-18 quantized to int8 (tools/export_model.py
--quantize int8, onednn) against float32, in one run, interleaved rounds:

* predict: the library (bench/predict_bench.c, default options) on the
  float32 and the int8 file, and Python (bench/predict_bench.py,
  torch.jit.load on the onednn engine) on the same int8 file as the
  reference, batch 1 and 8, 2 threads. Goal: int8 / float32 >= 1.8x at
  batch 8.
* end to end: `imgclass classify` with the int8 model against the Python
  pipeline (bench/e2e_reference.py) with the float32 one, the figure a user
  switching from the Python pipeline sees.

Seeded random weights (no network here): speed does not depend on them; the
accuracy cost is measured on trained weights by test/integration/int8_digits.sh.
The result replaces the part of docs/benchmarks.md between <!-- int8 --> and
<!-- /int8 --> (appended when absent), so other sections survive, with the
load average at its start and end; refused (nothing measured or written)
when the load at the start exceeds --max-load (bench/measure.py's
quiet_section_start).

    int8_bench.py --build BUILD [--rounds N] [--seconds S] [--out docs/benchmarks.md]
                  [--max-load L]
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from measure import (add_max_load_option, load_phrase, median,  # noqa: E402
                     quiet_section_start, replace_section, run_measured)
from inputs import export_model, photo_folder  # noqa: E402
from run import cpu_name, rate_of, timed  # noqa: E402

BEGIN, END = "<!-- int8 -->", "<!-- /int8 -->"


def bench_predict(args, py, f32, i8, log):
    lib = os.path.join(args.build, "bench", "predict_bench")
    rates = {}
    for r in range(args.rounds):
        for batch in (1, 8):
            common = ["--batch", str(batch), "--threads", str(args.threads),
                      "--seconds", str(args.seconds)]
            subjects = {
                "float32": [lib, f32] + common,
                "int8": [lib, i8] + common,
                "python int8": [py, os.path.join(HERE, "predict_bench.py"), i8] + common +
                               ["--qengine", "onednn"],
            }
            for name, cmd in subjects.items():
                text, _ = timed(cmd)
                rate = rate_of(text)
                rates.setdefault((name, batch), []).append(rate)
                log.append("round %d batch %d %s: %.1f img/s" % (r + 1, batch, name, rate))
                print("int8 bench: " + log[-1], file=sys.stderr)
    return rates


def bench_e2e(args, py, f32, i8, folder, files, log):
    ours, ref = [], []
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [os.path.join(args.build, "imgclass"), "classify", "--model", i8, "--tsv",
                   "--no-progress", "--threads", str(args.threads), "--batch", "8", folder]
            with open(os.path.join(tmp, "ours.tsv"), "w") as sink:
                t, _ = run_measured(cmd, stdout=sink)
            ours.append(len(files) / t)
            t, _ = run_measured([py, os.path.join(HERE, "e2e_reference.py"), f32,
                                 os.path.join(tmp, "ref.tsv"), "--batch", "8", "--threads",
                                 str(args.threads)] + files)
            ref.append(len(files) / t)
        log.append("round %d end to end: imgclass int8 %.1f img/s, Python float32 %.1f img/s"
                   % (r + 1, ours[-1], ref[-1]))
        print("int8 bench: " + log[-1], file=sys.stderr)
    return ours, ref


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    add_max_load_option(ap)
    args = ap.parse_args()
    start_load = quiet_section_start("int8 bench", args.max_load, build=args.build,
                                     drivers=["predict_bench"])
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="imgclass-int8-bench-") as tmp:
        folder, files, what = photo_folder(tmp)
        f32, i8 = os.path.join(tmp, "r18.pt"), os.path.join(tmp, "r18_int8.pt")
        export_model(f32, py=py)
        agreement = export_model(i8, ["--quantize", "int8", "--qengine", "onednn",
                                      "--calibrate", folder, "--calibrate-count", "32",
                                      "--imgclass", os.path.join(args.build, "imgclass")], py)
        agreement = [l for l in agreement.splitlines() if "agreement" in l][-1]
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        log = []
        rates = bench_predict(args, py, f32, i8, log)
        ours, ref = bench_e2e(args, py, f32, i8, folder, files, log)
        loads = load_phrase(start_load, "int8 bench")
    m = {k: median(v) for k, v in rates.items()}
    rows = []
    for batch in (1, 8):
        f, q, p = m[("float32", batch)], m[("int8", batch)], m[("python int8", batch)]
        rows.append("| predict, batch %d | %.1f | %.1f | %.2fx | %.1f | %.2f | %s |"
                    % (batch, q, f, q / f, p, q / p, ">= 1.8x" if batch == 8 else "-"))
    eo, er = median(ours), median(ref)
    section = "\n".join([
        "## int8 (quantized ResNet-18)",
        "",
        "Written by `make bench` (bench/int8_bench.py). ResNet-18 with seeded random",
        "weights, exported in float32 and in int8 (`tools/export_model.py --quantize int8",
        "--qengine onednn`, calibrated on 32 of the images), %d threads, %d interleaved"
        % (args.threads, args.rounds),
        "rounds (%.0f s each for predict), medians. Python runs the same int8 file on the"
        % args.seconds,
        "onednn engine (`torch.jit.load`, `inference_mode`) as the reference.",
        "",
        "- measured: %s on %s, %d CPUs; %s" % (started, cpu_name(), os.cpu_count(), loads),
        "- images: %s; export: %s" % (what, agreement.replace("export_model.py: ", "")),
        "",
        "| measurement (images/s) | library int8 | library float32 | int8 / float32 "
        "| Python int8 | library / Python int8 | goal (int8 / float32) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ] + rows + [
        "",
        "| end to end, images/s | `imgclass classify` int8 | Python pipeline float32 | ratio |",
        "| --- | ---: | ---: | ---: |",
        "| %s, batch 8 | %.1f | %.1f | %.2fx |" % (what, eo, er, eo / er),
        "",
        "Every round:",
        "",
    ] + ["- " + l for l in log])
    replace_section(args.out, BEGIN, END, BEGIN + "\n" + section + "\n" + END)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
