#!/usr/bin/python3
"""`make bench`, imgclass-watch: throughput of `imgclass-watch --once` against
`imgclass classify` on the same folder in one run (goal: ratio >= 0.9, so the
journal, the fsyncs and the partitioning cost little). The sample photos are
copied and cycled to at least 400 files. Every round runs both programs, one
after the other (interleaved, so load on this shared machine hits both); the
figure is the median over the rounds (the order alternates each round). Two rates per program: images/s as the
program reports it (from its first image to its exit, model load excluded,
the same for both), and images / wall time of the whole process.
The result replaces the section between <!-- watch --> and <!-- /watch --> in
docs/benchmarks.md, with the load average at its start and end; refused
(nothing measured or written) when the load at the start exceeds --max-load
(bench/measure.py's quiet_section_start).

    watch_bench.py --build BUILD [--rounds N] [--images N] [--out docs/benchmarks.md]
                   [--max-load L]
"""
import argparse
import os
import re
import shutil
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

BEGIN, END = "<!-- watch -->", "<!-- /watch -->"
RATE = re.compile(r"([0-9]+) images, ([0-9]+) failed, ([0-9.]+) s, ([0-9.]+) images/s")


def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 2):
        raise RuntimeError("%s exited %d: %s" % (cmd[0], p.returncode, p.stderr[-2000:]))
    m = RATE.findall(p.stderr)
    if not m:
        raise RuntimeError("no images/s figure from %s: %s" % (cmd[0], p.stderr[-2000:]))
    n, _, _, rate = m[-1]
    return int(n), float(rate), wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--images", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    add_max_load_option(ap)
    args = ap.parse_args()
    start_load = quiet_section_start("watch bench", args.max_load, build=args.build)
    py = sys.executable
    tmp = tempfile.mkdtemp(prefix="imgclass-watch-bench-")
    try:
        _, photos, what = photo_folder(os.path.join(tmp, "src"))
        folder = os.path.join(tmp, "images")
        os.mkdir(folder)
        for i in range(max(args.images, len(photos))):
            p = photos[i % len(photos)]
            shutil.copyfile(p, os.path.join(folder, "%04d_%s" % (i, os.path.basename(p))))
        n_files = len(os.listdir(folder))
        what = "%d files: %s cycled" % (n_files, what)
        model = os.path.join(tmp, "resnet18-random.pt")
        export_model(model, py=py)
        classify = [os.path.join(args.build, "imgclass"), "classify", "--model", model, "--json",
                    "--no-progress", "--threads", str(args.threads), "--batch", str(args.batch),
                    folder]
        rates = {"classify": [], "watch": []}
        walls = {"classify": [], "watch": []}
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        for r in range(args.rounds):
            out = os.path.join(tmp, "out%d" % r)
            watch = [os.path.join(args.build, "imgclass-watch"), "--model", model, "--once",
                     "--threads", str(args.threads), "--batch", str(args.batch),
                     "--input", folder, "--output", out]
            # Alternate which goes first, so neither always meets the same
            # phase of the other work on the machine.
            pair = [("classify", classify), ("watch", watch)]
            for name, cmd in (pair if r % 2 == 0 else pair[::-1]):
                n, rate, wall = run(cmd)
                if n != n_files:
                    raise RuntimeError("%s took %d of %d images" % (name, n, n_files))
                rates[name].append(rate)
                walls[name].append(n / wall)
                print("watch bench: round %d %s: %.1f images/s (%.1f with start-up)"
                      % (r + 1, name, rate, n / wall), file=sys.stderr)
            shutil.rmtree(out)
        loads = load_phrase(start_load, "watch bench")
        rc, rw = median(rates["classify"]), median(rates["watch"])
        wc, ww = median(walls["classify"]), median(walls["watch"])
        ratio = rw / rc
        section = "\n".join([
            BEGIN,
            "## imgclass-watch",
            "",
            "Written by `make bench` (bench/watch_bench.py). `imgclass-watch --once` against",
            "`imgclass classify --json` on the same folder, both with batch %d and %d engine"
            % (args.batch, args.threads),
            "threads, ResNet-18 (seeded random weights), interleaved rounds (the order alternating),",
            "medians. The",
            "watcher also writes a journal, fsyncs and renames its part and its folder.",
            "",
            "- measured: %s on %s, %d CPUs; %s" % (started, cpu_name(), os.cpu_count(), loads),
            "- images: %s; %d rounds" % (what, args.rounds),
            "",
            "| measurement | imgclass-watch | imgclass classify | ratio | goal |",
            "| --- | ---: | ---: | ---: | --- |",
            "| images/s, first image to exit | %.1f | %.1f | %.2f | >= 0.9 |" % (rw, rc, ratio),
            "| images/s, whole process (model load included) | %.1f | %.1f | %.2f | - |"
            % (ww, wc, ww / wc),
            END,
        ])
        replace_section(args.out, BEGIN, END, section)
        print(section)
        if ratio < 0.9:
            print("watch bench: ratio %.2f is under the 0.9 goal" % ratio, file=sys.stderr)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
