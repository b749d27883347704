#!/usr/bin/python3
"""imgclass.dask on a LocalCluster of 1 worker against `imgclass classify`
on the same images, model and threads, in one run (interleaved rounds,
median). The cluster is started once, as a long-lived cluster is; every
round of both subjects loads the model (the worker's model cache is
dropped before each round) and writes every result to a file.

    dask_bench.py [--build build] [--rounds 3] [--threads 2] [--images DIR]
                  [--update docs/scale-out.md] [--max-load L]

Goal: dask images/s / CLI images/s >= 0.85. The text carries the load
average at the start and end; refused (nothing measured or written) when
the load at the start exceeds --max-load (bench/measure.py's
quiet_section_start).
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
from inputs import export_model, photo_folder  # noqa: E402
from measure import (add_max_load_option, load_phrase, median,  # noqa: E402
                     quiet_section_start, run_measured)

BEGIN = "<!-- dask_bench begin -->"
END = "<!-- dask_bench end -->"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", help="default: the sample photos, else generated JPEGs")
    ap.add_argument("--update", metavar="DOC")
    add_max_load_option(ap)
    args = ap.parse_args()
    start_load = quiet_section_start("dask bench", args.max_load, build=args.build)
    os.environ["IMGCLASS_LIBRARY"] = os.path.abspath(os.path.join(args.build, "libimgclass.so"))
    os.environ["PYTHONPATH"] = os.path.join(REPO, "bindings", "python")
    from distributed import Client

    import imgclass.dask as icd
    from imgclass.dask import _worker

    tmp = tempfile.mkdtemp(prefix="imgclass-daskbench-")
    folder, files, what = photo_folder(tmp, args.images)
    model = os.path.join(tmp, "resnet18-random.pt")
    export_model(model)
    cli = os.path.join(args.build, "imgclass")
    cli_out = os.path.join(tmp, "cli.jsonl")
    cli_cmd = ["sh", "-c", f'exec "$0" "$@" > {cli_out}', cli, "classify", "--model", model,
               "--json", "--no-progress", "--threads", str(args.threads), "--batch", "8", folder]

    times = {"cli": [], "dask": []}
    with icd.local_cluster(1, args.threads) as cluster, Client(cluster) as client:
        for _ in range(args.rounds):
            times["cli"].append(run_measured(cli_cmd)[0])
            client.run(_worker.shutdown)  # the model loads again, as in the CLI
            out = os.path.join(tmp, "dask-out")
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            summaries = client.compute(icd.classify_paths(folder, model, output=out,
                                                          batch=8)).result()
            times["dask"].append(time.perf_counter() - t0)
            assert sum(s["records"] for s in summaries) == len(files)
    loads = load_phrase(start_load, "dask bench")
    m = {k: median(v) for k, v in times.items()}
    rate = {k: len(files) / v for k, v in m.items()}
    ratio = rate["dask"] / rate["cli"]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        BEGIN,
        f"Measured {stamp} by bench/dask_bench.py; {loads}. {what}, ResNet-18",
        f"with seeded random weights, {args.threads} threads, batch 8, median of {args.rounds}",
        "interleaved rounds, model load included on both sides, the cluster already running:",
        "",
        "| subject | seconds | images/s |",
        "| --- | ---: | ---: |",
        f"| `imgclass classify --json` | {m['cli']:.2f} | {rate['cli']:.2f} |",
        f"| `imgclass.dask`, LocalCluster of 1 worker | {m['dask']:.2f} | {rate['dask']:.2f} |",
        "",
        f"Ratio dask / CLI: **{ratio:.2f}** (goal >= 0.85).",
        END,
    ]
    text = "\n".join(lines)
    print(text)
    if args.update:
        with open(args.update) as f:
            doc = f.read()
        if BEGIN in doc and END in doc:
            doc = doc.split(BEGIN)[0] + text + doc.split(END, 1)[1]
        else:
            doc = doc.rstrip("\n") + "\n\n" + text + "\n"
        with open(args.update, "w") as f:
            f.write(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
