#!/usr/bin/python3
"""The pipeline's benchmarks (run by `make bench` through bench/run.sh, or
alone): steady-state throughput against the bare forward pass, latency at low
load, `imgclass classify` end to end, the thread budget, and pictures.

    pipeline_bench.py --build BUILD --model M.pt --images DIR
                      [--out docs/benchmarks.md] [--figures docs/img]

Every ratio compares figures from this one run on this machine. The section
it writes into --out sits between the markers <!-- pipeline --> and
<!-- /pipeline -->, replacing an earlier one, with the load average at its
start and end; refused (nothing measured or written) when the load at the
start exceeds --max-load (bench/measure.py's quiet_section_start).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BEGIN, END = "<!-- pipeline -->", "<!-- /pipeline -->"
sys.path.insert(0, HERE)
from measure import (add_max_load_option, load_phrase, median,  # noqa: E402
                     quiet_section_start, replace_section)


ROUNDS = 3




def driver(build, mode, model, listfile, **kw):
    cmd = [os.path.join(build, "bench", "pipeline_bench"), mode, model, listfile]
    for k, v in kw.items():
        if v is None:
            continue
        cmd += ["--" + k.replace("_", "-"), str(v)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def cycled_folder(files, count, folder):
    """`count` links to the photos, cycled, so classify sees a folder of them."""
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        src = files[i % len(files)]
        os.symlink(src, os.path.join(folder, "%04d%s" % (i, os.path.splitext(src)[1])))
    return sorted(glob.glob(os.path.join(folder, "*")))


def wall(cmd):
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def figures(figdir, sweep_b, sweep_d, lat_low, lat_full):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(figdir, exist_ok=True)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.plot([r["batch"] for r in sweep_b], [r["images_per_s"] for r in sweep_b], "o-",
           label="pipeline")
    a.plot([r["batch"] for r in sweep_b], [r["forward"] for r in sweep_b], "s--",
           label="forward pass only")
    a.set_xscale("log", base=2)
    a.set_xlabel("max batch")
    a.set_ylabel("images/s")
    a.set_title("Throughput against batch size")
    a.legend()
    b.plot([r["delay_us"] / 1000 for r in sweep_d], [r["images_per_s"] for r in sweep_d], "o-")
    b.set_xlabel("max delay (ms), batch 8")
    b.set_ylabel("images/s")
    b.set_title("Throughput against deadline")
    fig.tight_layout()
    fig.savefig(os.path.join(figdir, "pipeline-throughput.png"), dpi=90)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for lat, name in ((lat_low, "low load: 1 image / 100 ms"), (lat_full, "full load")):
        ms = [v / 1000 for v in lat]
        ax.hist(ms, bins=40, alpha=0.6, label=name)
    ax.set_xlabel("latency, submit to result (ms)")
    ax.set_ylabel("images")
    ax.set_title("Latency distribution, batch 8, deadline 5 ms")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(figdir, "pipeline-latency.png"), dpi=90)
    plt.close(fig)


def read_floats(path):
    with open(path) as f:
        return [float(x) for x in f if x.strip()]




def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--model", help="default: ResNet-18, seeded random weights, exported here")
    ap.add_argument("--images", help="default: the sample photos beside the repository, or"
                    " generated JPEGs when they are absent")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    ap.add_argument("--figures", default=os.path.join(REPO, "docs", "img"))
    add_max_load_option(ap)
    args = ap.parse_args()
    start_load = quiet_section_start("pipeline bench", args.max_load, build=args.build,
                                     drivers=["pipeline_bench"])
    tmp = tempfile.mkdtemp(prefix="imgclass-pipeline-bench-")
    from inputs import export_model, photo_folder  # noqa: E402
    args.images, photos, _ = photo_folder(tmp, args.images)
    if not args.model:
        args.model = os.path.join(tmp, "resnet18-random.pt")
        export_model(args.model)
    b, m, t = args.build, args.model, args.threads
    listfile = os.path.join(tmp, "list.txt")
    with open(listfile, "w") as f:
        f.write("\n".join(photos) + "\n")
    n = args.count
    log = lambda s: print("pipeline bench: " + s, file=sys.stderr, flush=True)

    # Steady state and the forward pass alone, interleaved rounds, medians:
    # this machine's rate drifts by 10 % from minute to minute.
    fwds, steadies = [], []
    for r in range(ROUNDS):
        fwds.append(driver(b, "forward", m, listfile, count=n, batch=8, threads=t))
        steadies.append(driver(b, "steady", m, listfile, count=n, batch=8, threads=t,
                               latencies=os.path.join(tmp, "full.txt") if r == 0 else None))
    fwd8 = fwds[0]
    forward_rate = median([f["images_per_s"] for f in fwds])
    steady = sorted(steadies, key=lambda s: s["images_per_s"])[len(steadies) // 2]
    # The same with a core left free for preprocessing (1 engine thread, 1
    # worker): what the pipeline does where the thread budget fits the CPUs.
    spare_f, spare_s = [], []
    if (os.cpu_count() or 1) > 1 and t > 1:
        for r in range(ROUNDS):
            spare_f.append(driver(b, "forward", m, listfile, count=n // 2, batch=8,
                                  threads=1)["images_per_s"])
            spare_s.append(driver(b, "steady", m, listfile, count=n // 2, batch=8, threads=1,
                                  pp_threads=1)["images_per_s"])
    log("steady state done")
    low = driver(b, "lowload", m, listfile, count=200, batch=8, threads=t, interval_ms=100,
                 delay_us=5000, latencies=os.path.join(tmp, "low.txt"))
    log("low load done")
    # (engine threads, workers, workers' nice); the last row is the old
    # behaviour, workers at the caller's priority (docs/engine.md).
    budgets = ((2, 1, 19), (2, 2, 19), (1, 1, 19), (2, 1, 0))
    budget = [driver(b, "steady", m, listfile, count=n, batch=8, threads=et, pp_threads=pt,
                     pp_nice=nice) for et, pt, nice in budgets]
    log("thread budget done")
    # The sweeps are for the pictures: half the images each, to keep make bench short.
    ns = max(n // 2, 64)
    sweep_b = []
    for bs in (1, 2, 4, 8, 16):
        r = steady if bs == 8 else driver(b, "steady", m, listfile, count=ns, batch=bs, threads=t)
        r["forward"] = driver(b, "forward", m, listfile, count=ns, batch=bs,
                              threads=t)["images_per_s"]
        sweep_b.append(r)
    sweep_d = [driver(b, "steady", m, listfile, count=ns, batch=8, threads=t, delay_us=d)
               for d in (0, 1000, 20000, 100000)]
    sweep_d.insert(2, steady)
    log("sweeps done")

    folder = os.path.join(tmp, "photos")
    files = cycled_folder(photos, n, folder)
    imgclass = os.path.join(b, "imgclass")
    cls_s = wall([imgclass, "classify", "--model", m, "--tsv", "-t", str(t), folder])
    ref_s = wall([sys.executable, os.path.join(HERE, "e2e_reference.py"), m,
                  os.path.join(tmp, "ref.tsv"), "--batch", "8", "--threads", str(t)] + files)
    cls_rate, ref_rate = n / cls_s, n / ref_s
    log("end to end done")
    loads = load_phrase(start_load, "pipeline bench")
    figures(args.figures, sweep_b, sweep_d, read_floats(os.path.join(tmp, "low.txt")),
            read_floats(os.path.join(tmp, "full.txt")))

    bound = (low["forward_b1_ms"] + low["preprocess_ms"] + 5.0) * 1.1
    paced = (low["forward_b1_paced_ms"] + low["preprocess_ms"] + 5.0) * 1.1
    paced_p99 = (low["forward_b1_paced_p99_ms"] + low["preprocess_ms"] + 5.0) * 1.1
    rows = [
        ("steady-state pipeline, batch 8, vs forward pass only (`imgclass_predict` on a"
         " ready batch), images/s", steady["images_per_s"], forward_rate,
         steady["images_per_s"] / forward_rate, ">= 0.95"),
    ]
    if spare_f:
        rows.append(("the same with a core left to preprocessing (1 engine thread, 1 worker) vs"
                     " forward pass only at 1 thread, images/s", median(spare_s),
                     median(spare_f), median(spare_s) / median(spare_f), "-"))
    rows += [
        ("latency at low load (1 image / 100 ms, deadline 5 ms): p99 ms vs forward b=1 +"
         " preprocessing + 5 ms, +10 %", low["p99_ms"], bound, low["p99_ms"] / bound,
         "<= 1.00"),
        ("the same p99 vs that bound with the forward pass timed after the same 100 ms"
         " pause (what a lone image meets)", low["p99_ms"], paced, low["p99_ms"] / paced, "-"),
        ("the same p99 vs that bound with the forward pass's own p99 after the same pause"
         " (the tail this machine gives a lone forward pass)", low["p99_ms"], paced_p99,
         low["p99_ms"] / paced_p99, "-"),
        (f"`imgclass classify` over a folder of {n} (process start and model load included)"
         " vs forward pass only, images/s", cls_rate, forward_rate, cls_rate / forward_rate,
         ">= 0.90"),
        (f"`imgclass classify` vs the Python pipeline (bench/e2e_reference.py), same {n}"
         " images, images/s", cls_rate, ref_rate, cls_rate / ref_rate, "-"),
    ]
    lines = [BEGIN, "## The pipeline", "",
             f"Written by bench/pipeline_bench.py ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())});"
             f" {loads}; {len(photos)} photos cycled to {n} images; ResNet-18, {t} engine threads;"
             " ratios from this one run.", "",
             "| measurement | imgclass | reference | ratio | goal |",
             "| --- | ---: | ---: | ---: | --- |"]
    for what, ours, ref, ratio, goal in rows:
        lines.append(f"| {what} | {ours:.2f} | {ref:.2f} | {ratio:.2f} | {goal} |")
    lines += ["",
              f"Model load (TorchScript load, freeze, optimize, warm-up): {fwd8['load_s']:.2f} s."
              f" Low load: p50 {low['p50_ms']:.1f} ms, p99 {low['p99_ms']:.1f} ms; forward pass"
              f" at batch 1 {low['forward_b1_ms']:.1f} ms back to back (p99"
              f" {low['forward_b1_p99_ms']:.1f}), {low['forward_b1_paced_ms']:.1f} ms after a"
              f" 100 ms pause (p99 {low['forward_b1_paced_p99_ms']:.1f}), decode + preprocess"
              f" {low['preprocess_ms']:.1f} ms (medians in the same process, 30 runs each;"
              f" {low['images']} images at low load).", "",
              f"Steady state (batch 8, {t} engine threads, median of {ROUNDS} rounds"
              f" interleaved with the forward pass alone): the engine ran forward passes"
              f" {100 * steady['forward_busy']:.0f} % of the wall time, in"
              f" {steady['batches']} batches of {steady['mean_batch']:.2f} on average. Forward"
              " only, every round: " + ", ".join("%.1f" % f["images_per_s"] for f in fwds) +
              " images/s; pipeline: " + ", ".join("%.1f" % x["images_per_s"] for x in steadies) +
              " images/s." + (" With a core left free: forward only at 1 thread " +
                              ", ".join("%.1f" % x for x in spare_f) + ", pipeline " +
                              ", ".join("%.1f" % x for x in spare_s) + " images/s."
                              if spare_f else ""), "",
              "Thread budget (steady state, batch 8): engine threads + preprocessing threads"
              " on this machine's CPUs:", "",
              "| engine threads | preprocessing threads | workers' nice | images/s | mean batch |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for (et, pt, nice), r in zip(budgets, budget):
        lines.append(f"| {et} | {pt} | {nice} | {r['images_per_s']:.1f} | {r['mean_batch']:.1f} |")
    lines += ["", "![throughput](img/pipeline-throughput.png)", "",
              "![latency](img/pipeline-latency.png)", "",
              "| max batch | pipeline images/s | forward only images/s | p50 ms | p99 ms |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for r in sweep_b:
        lines.append(f"| {r['batch']} | {r['images_per_s']:.1f} | {r['forward']:.1f} |"
                     f" {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")
    lines += ["", "| max delay ms (batch 8) | images/s | mean batch |", "| ---: | ---: | ---: |"]
    for r in sweep_d:
        lines.append(f"| {r['delay_us'] / 1000:g} | {r['images_per_s']:.1f} | {r['mean_batch']:.1f} |")
    lines.append(END)
    replace_section(args.out, BEGIN, END, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
