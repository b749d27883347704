#!/usr/bin/python3
"""`make bench`, camera frames: a 1920x1080 frame preprocessed to the 224
crop as NV12 and I420 against the same-sized frame as RGB (goal: YUV no
slower than RGB, ratio <= 1.0), one thread, bench/yuv_bench.c. Each round
times every layout (the order rotating); the figure is the median of the
per-round ratios. The load average at the start and the end is written with
it; refused, nothing written, when it exceeds --max-load at the start
(bench/measure.py's quiet_section_start). The section sits between <!-- yuv --> and
<!-- /yuv --> in docs/benchmarks.md.

    yuv_bench.py --build BUILD [--rounds N] [--reps N] [--out docs/benchmarks.md]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from measure import (add_max_load_option, load_phrase, median,  # noqa: E402
                     quiet_section_start, replace_section)

BEGIN, END = "<!-- yuv -->", "<!-- /yuv -->"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=40)
    add_max_load_option(ap)
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    args = ap.parse_args()
    start_load = quiet_section_start("yuv bench", args.max_load, build=args.build,
                                     drivers=["yuv_bench"])
    out = subprocess.run([os.path.join(args.build, "bench", "yuv_bench"), str(args.rounds),
                          str(args.reps)], check=True, capture_output=True, text=True).stdout
    rounds = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    loads = load_phrase(start_load, "yuv bench")
    fmt = lambda k: ", ".join("%.2f" % r[k] for r in rounds)
    nv12 = median([r["nv12_ms"] / r["rgb_ms"] for r in rounds])
    i420 = median([r["i420_ms"] / r["rgb_ms"] for r in rounds])
    lines = [BEGIN, "## Camera frames (YUV 4:2:0)", "",
             f"Written by bench/yuv_bench.py ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())});"
             f" {loads};"
             f" a 1920x1080 frame to the default 224 crop (resize 256, bilinear), one thread,"
             f" {args.reps} frames per layout per round, {len(rounds)} rounds, ratio = median of"
             " the per-round ratios to RGB.", "",
             "| layout | ms per frame, each round | ratio to RGB | goal |",
             "| --- | --- | ---: | --- |",
             f"| RGB (`imgclass_image_wrap`) | {fmt('rgb_ms')} | 1 | |",
             f"| NV12 (`imgclass_image_wrap_yuv`) | {fmt('nv12_ms')} | {nv12:.2f} | <= 1.0 |",
             f"| I420 | {fmt('i420_ms')} | {i420:.2f} | <= 1.0 |", END]
    text = "\n".join(lines)
    print(text)
    replace_section(args.out, BEGIN, END, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
