#!/usr/bin/python3
"""End-to-end benchmark: `imgclass classify` on a folder against the
standard Python pipeline (e2e_reference.py), same images, model, batch and
thread count, both writing results to files. Reports images per second
(median of repeated runs), peak RSS, and top-1 agreement per image.

    e2e_bench.py --imgclass BUILD/imgclass --model M.pt --images DIR --out RESULT.json
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import median, run_measured  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def image_files(folder):
    names = []
    for root, _, files in os.walk(folder):
        for f in files:
            names.append(os.path.relpath(os.path.join(root, f), folder))
    return [os.path.join(folder, n) for n in sorted(names)]


def read_top1(path):
    top = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 3 and fields[1] != "error":
                top[fields[0]] = int(fields[1])
    return top


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--imgclass", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()

    files = image_files(args.images)
    folder = args.images.rstrip("/")
    tmp = tempfile.mkdtemp(prefix="imgclass-e2e-")
    ours_out, ref_out = os.path.join(tmp, "ours.tsv"), os.path.join(tmp, "ref.tsv")
    ours_cmd = [args.imgclass, "classify", "--model", args.model, "--tsv", "--no-progress",
                "--threads", str(args.threads), "--batch", str(args.batch), folder]
    ref_cmd = [sys.executable, os.path.join(HERE, "e2e_reference.py"), args.model, ref_out,
               "--batch", str(args.batch), "--threads", str(args.threads)] + files

    ours_t, ref_t, ours_rss, ref_rss = [], [], [], []
    for _ in range(args.reps):  # interleaved, so drift hits both alike
        with open(ours_out, "w") as sink:
            t, rss = run_measured(ours_cmd, stdout=sink)
        ours_t.append(t)
        ours_rss.append(rss)
        t, rss = run_measured(ref_cmd)
        ref_t.append(t)
        ref_rss.append(rss)

    ours, ref = read_top1(ours_out), read_top1(ref_out)
    common = sorted(set(ours) & set(ref))
    agree = sum(ours[p] == ref[p] for p in common)
    n = len(files)
    ours_ips, ref_ips = n / median(ours_t), n / median(ref_t)
    result = {
        "images": n,
        "classified_by_both": len(common),
        "top1_agreement": agree,
        "rows": [
            {"what": "end to end, images/s (higher is better)", "imgclass": ours_ips,
             "reference": ref_ips, "ratio": ours_ips / ref_ips, "goal": ">= 2x"},
            {"what": "end to end, peak RSS MiB (lower is better)",
             "imgclass": max(ours_rss) / 2**20, "reference": max(ref_rss) / 2**20,
             "ratio": max(ours_rss) / max(ref_rss), "goal": "< 1"},
        ],
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"e2e: {n} images: imgclass {ours_ips:.1f} img/s, Python {ref_ips:.1f} img/s "
          f"({ours_ips / ref_ips:.2f}x); peak RSS {max(ours_rss) / 2**20:.0f} MiB vs "
          f"{max(ref_rss) / 2**20:.0f} MiB; top-1 agreement {agree}/{len(common)}")
    return 0 if agree == len(common) == n else 1


if __name__ == "__main__":
    sys.exit(main())
