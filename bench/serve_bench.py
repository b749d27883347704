#!/usr/bin/python3
"""`make bench`, part 5: imgclass-serve with dynamic batching against the
same server with --batch 1, 32 concurrent clients (wrk, keep-alive, on
loopback), ResNet-18 on the sample photos. Rounds alternate between the two
servers so that load from elsewhere on the machine hits both alike; each
round is time-bounded. Writes (replaces) the section between <!-- serve -->
and <!-- /serve --> in docs/benchmarks.md, with the load average at its
start and end; refused (nothing measured or written) when the load at the
start exceeds --max-load (bench/measure.py's quiet_section_start).

    serve_bench.py --build BUILD [--seconds 15] [--rounds 3] [--out docs/benchmarks.md]
                   [--max-load L]
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
from inputs import export_model, photo_folder  # noqa: E402
from run import cpu_name  # noqa: E402
from measure import (add_max_load_option, load_phrase, median,  # noqa: E402
                     quiet_section_start, replace_section)
from serve_harness import Server, require_tool, wrk  # noqa: E402

BEGIN, END = "<!-- serve -->", "<!-- /serve -->"
SECTION = "## HTTP server: dynamic batching (imgclass-serve)"
PATH = "/predictions/resnet18"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--delay-ms", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    add_max_load_option(ap)
    args = ap.parse_args()
    require_tool("serve bench", "wrk", "it is the HTTP client that loads the servers")
    start_load = quiet_section_start("serve bench", args.max_load, build=args.build)
    py = "/usr/bin/python3"

    tmp = tempfile.mkdtemp(prefix="imgclass-serve-bench.")
    model = os.path.join(tmp, "resnet18-random.pt")
    export_model(model, py=py)
    folder, _, source = photo_folder(tmp)
    image_list = os.path.join(tmp, "images.txt")
    with open(image_list, "w") as f:
        for name in sorted(os.listdir(folder)):
            f.write(os.path.join(os.path.abspath(folder), name) + "\n")

    configs = [("dynamic batching (--batch 8)", 8), ("--batch 1", 1)]
    servers = {}
    runs = {b: [] for _, b in configs}
    try:
        for _, b in configs:
            servers[b] = Server(args.build, [
                "--model", "resnet18=" + model, "--batch", str(b), "--max-batch-delay-ms",
                str(args.delay_ms), "--queue", "256", "--threads", str(args.threads)])
        for b in servers:  # warm-up: first forward passes and page faults
            wrk(servers[b].url(), PATH, image_list, 3, args.clients)
            servers[b].wait_idle()
        for rnd in range(args.rounds):
            for _, b in (configs if rnd % 2 == 0 else configs[::-1]):
                r = wrk(servers[b].url(), PATH, image_list, args.seconds, args.clients)
                servers[b].wait_idle()
                print("round %d, batch %d: %.1f req/s, p50 %.0f ms, p99 %.0f ms, non-2xx %d, "
                      "socket errors %d" % (rnd + 1, b, r["rps"], r["p50_us"] / 1e3,
                                            r["p99_us"] / 1e3, r["non2xx"], r["socket_errors"]),
                      flush=True)
                runs[b].append(r)
        mean_batch = {b: servers[b].mean_batch() for b in servers}
        rss = {b: servers[b].rss_mib() for b in servers}
    finally:
        rcs = {b: servers[b].stop() for b in servers}
        shutil.rmtree(tmp, ignore_errors=True)  # the model alone is 45 MB
    loads = load_phrase(start_load, "serve bench")

    def med(b, key):
        return median([r[key] for r in runs[b]])
    rps8, rps1 = med(8, "rps"), med(1, "rps")
    p50, p99 = med(8, "p50_us"), med(8, "p99_us")
    errors = sum(r["non2xx"] + r["socket_errors"] for b in runs for r in runs[b])
    ratio = rps8 / rps1
    lines = [BEGIN, SECTION, "",
             "- measured: %s UTC on %s, %d CPUs; %s" %
             (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), cpu_name(), os.cpu_count(), loads),
             "- model: ResNet-18 with seeded random weights (tools/export_model.py "
             "--random-seed 0); images: %s, sent in turn as raw POST bodies" % source,
             "- load: wrk, %d connections (keep-alive), 2 client threads, %d s per round, "
             "%d rounds alternating between the two servers, medians; loopback only" %
             (args.clients, args.seconds, args.rounds),
             "- servers: `imgclass-serve --threads %d --max-batch-delay-ms %d --queue 256` "
             "with `--batch 8` and with `--batch 1`, both running during the whole measurement"
             % (args.threads, args.delay_ms),
             "- command: `make bench` (bench/serve_bench.py)", "",
             "| server | requests/s | p50 ms | p99 ms | p99 / p50 | mean batch | RSS MiB (peak) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, b in configs:
        lines.append("| %s | %.1f | %.1f | %.1f | %.2f | %.2f | %.0f (%.0f) |" % (
            name, med(b, "rps"), med(b, "p50_us") / 1e3, med(b, "p99_us") / 1e3,
            med(b, "p99_us") / max(med(b, "p50_us"), 1), mean_batch[b], rss[b][0], rss[b][1]))
    lines += ["",
              "Dynamic batching: **%.2fx** the requests/s of `--batch 1` (goal >= 1.3x); its p99 "
              "is **%.2fx** its p50 (goal <= 2x). Errors (non-2xx answers and socket errors) "
              "over all rounds: %d. Exit status of both servers after SIGTERM: %s." %
              (ratio, p99 / max(p50, 1), errors, ", ".join(str(rcs[b]) for b in rcs)), "",
              "Per round (req/s, batch 8 / batch 1): " +
              "; ".join("%.1f / %.1f" % (runs[8][i]["rps"], runs[1][i]["rps"])
                        for i in range(args.rounds)) + ".", "",
              "TorchServe's memory: no published resident-set figure for a ResNet-18 "
              "TorchServe deployment was found to compare with (searched TorchServe's "
              "documentation and issue tracker). Its architecture is a JVM front end plus one "
              "Python worker process per worker, each loading the model with PyTorch; the "
              "Python reference pipeline alone, measured above, peaks at the RSS shown in the "
              "end-to-end table.", END]
    replace_section(args.out, BEGIN, END, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
