#!/usr/bin/python3
"""`make bench`, bf16: ResNet-18 (seeded random weights) loaded with
--precision bf16 against float32, through `imgclass bench` (the forward pass
at batch 8, 2 threads; goal: bf16 >= 1.6x float32), interleaved rounds,
median of the per-round ratios; and the top-1 agreement of bf16 with
float32 on the sample photos through `imgclass classify` (goal >= 99 %).
Accuracy on trained weights is test/integration/int8_digits.sh's (within
0.3 points of float32). On a CPU without native bf16 the section says so
and measures nothing. Refused, nothing written, on a loaded machine
(bench/measure.py). The section sits between <!-- bf16 --> and <!-- /bf16 -->
in docs/benchmarks.md.

    bf16_bench.py --build BUILD [--rounds N] [--runs N] [--out docs/benchmarks.md]
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
sys.path.insert(0, HERE)
from measure import (add_max_load_option, load_phrase, median,  # noqa: E402
                     quiet_section_start, replace_section)
from inputs import export_model, photo_folder  # noqa: E402
from run import cpu_name  # noqa: E402
# The same oracle of native bf16 as the tests' (/proc/cpuinfo's flags).
sys.path.insert(0, os.path.join(REPO, "test", "integration", "helpers"))
from cpu_flags import cpu_has_bf16  # noqa: E402

BEGIN, END = "<!-- bf16 -->", "<!-- /bf16 -->"
ROW = re.compile(r"^predict b=8\s+\d+\s+([0-9.]+)\s", re.M)


def forward_rate(ic, model, precision, photo, runs, threads):
    """images/s of the batch-8 forward pass, as `imgclass bench` reports it."""
    out = subprocess.run([ic, "bench", "--model", model, "--precision", precision, "--batch",
                          "8", "--runs", str(runs), "--threads", str(threads), photo],
                         check=True, capture_output=True, text=True).stdout
    m = ROW.search(out)
    if not m:
        raise RuntimeError("no 'predict b=8' row from imgclass bench:\n" + out)
    return float(m.group(1))


def top1(ic, model, precision, files, threads):
    out = subprocess.run([ic, "classify", "--model", model, "--precision", precision, "--json",
                          "--topk", "1", "--threads", str(threads), "--no-progress", *files],
                         check=True, capture_output=True, text=True).stdout
    return {r["path"]: r["top"][0]["index"] for r in map(json.loads, out.splitlines())
            if "top" in r}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    add_max_load_option(ap)
    args = ap.parse_args()
    ic = os.path.join(args.build, "imgclass")
    head = [BEGIN, "## bf16 (`--precision bf16`)", ""]
    if not cpu_has_bf16():
        text = "\n".join(head + [f"Not measured: {cpu_name()} has no native bf16 "
                                 "(avx512_bf16 or amx_bf16), so bf16 is refused.", END])
        print(text)
        replace_section(args.out, BEGIN, END, text)
        return 0
    start_load = quiet_section_start("bf16 bench", args.max_load, build=args.build)
    with tempfile.TemporaryDirectory(prefix="imgclass-bf16-bench-") as tmp:
        _, files, what = photo_folder(tmp)
        model = os.path.join(tmp, "r18.pt")
        export_model(model)
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        f32, bf16 = [], []
        for r in range(args.rounds):
            order = ("float32", "bf16") if r % 2 == 0 else ("bf16", "float32")
            got = {p: forward_rate(ic, model, p, files[0], args.runs, args.threads) for p in order}
            f32.append(got["float32"])
            bf16.append(got["bf16"])
            print("bf16 bench: round %d: float32 %.1f, bf16 %.1f images/s" %
                  (r + 1, f32[-1], bf16[-1]), file=sys.stderr, flush=True)
        a, b = top1(ic, model, "float32", files, args.threads), top1(ic, model, "bf16", files,
                                                                      args.threads)
        agree = 100.0 * sum(a[p] == b.get(p) for p in a) / len(a)
        loads = load_phrase(start_load, "bf16 bench")
    ratio = median([y / x for x, y in zip(f32, bf16)])
    fmt = lambda xs: ", ".join("%.1f" % x for x in xs)
    text = "\n".join(head + [
        f"Written by bench/bf16_bench.py ({started}) on {cpu_name()}; {loads}; ResNet-18"
        f" (seeded random weights), `imgclass bench --batch 8 --runs {args.runs}`, "
        f"{args.threads} threads, {args.rounds} interleaved rounds, ratio = median of the"
        " per-round ratios.", "",
        "| measurement | each round | result | goal |",
        "| --- | --- | ---: | --- |",
        f"| forward pass, batch 8, float32, images/s | {fmt(f32)} | | |",
        f"| forward pass, batch 8, bf16, images/s | {fmt(bf16)} | {ratio:.2f}x float32 |"
        " >= 1.6x |",
        f"| top-1 agreement with float32, {what} | | {agree:.1f} % ({len(a)} images) |"
        " >= 99 % |", "",
        "Random weights give near-tied scores, where bf16's rounding (about 1e-2) flips"
        " more answers than a trained model's would; accuracy on trained weights:"
        " test/integration/int8_digits.sh.", END])
    print(text)
    replace_section(args.out, BEGIN, END, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
