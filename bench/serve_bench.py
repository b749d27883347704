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
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from inputs import export_model, photo_folder  # noqa: E402
from run import cpu_name  # noqa: E402
from measure import (add_max_load_option, load_phrase, median,  # noqa: E402
                     quiet_section_start, replace_section)

BEGIN, END = "<!-- serve -->", "<!-- /serve -->"
SECTION = "## HTTP server: dynamic batching (imgclass-serve)"


class Server:
    def __init__(self, build, model, batch, delay_ms, threads):
        self.cmd = [os.path.join(build, "imgclass-serve"), "--model", "resnet18=" + model,
                    "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                    "--batch", str(batch), "--max-batch-delay-ms", str(delay_ms),
                    "--queue", "256", "--threads", str(threads), "--quiet"]
        self.proc = subprocess.Popen(self.cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        pat = re.compile(rb"listening on http://127\.0\.0\.1:(\d+), metrics on "
                         rb"http://127\.0\.0\.1:(\d+)")
        for line in self.proc.stderr:
            m = pat.search(line)
            if m:
                self.port, self.metrics_port = int(m.group(1)), int(m.group(2))
                break
        else:
            raise RuntimeError("server did not start: " + " ".join(self.cmd))
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def rss_mib(self):
        """(current, peak) resident set in MiB, from /proc."""
        cur = peak = 0.0
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    cur = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) / 1024
        return cur, peak

    def metrics(self):
        import urllib.request
        return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                      timeout=30).read().decode()

    def wait_idle(self, limit=300):
        """Waits until the requests wrk left in flight are answered, so they
        do not run during the other server's round."""
        deadline = time.time() + limit
        while time.time() < deadline:
            depth = [float(l.rsplit(" ", 1)[1]) for l in self.metrics().splitlines()
                     if l.startswith("imgclass_queue_depth{")]
            if depth and max(depth) == 0:
                return
            time.sleep(0.2)

    def mean_batch(self):
        text = self.metrics()
        batches = images = 0.0
        for line in text.splitlines():
            if line.startswith("imgclass_batches_total{"):
                batches += float(line.rsplit(" ", 1)[1])
            elif line.startswith("imgclass_batched_images_total{"):
                images += float(line.rsplit(" ", 1)[1])
        return images / batches if batches else 0.0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(120)


def wrk(port, image_list, seconds, clients):
    env = dict(os.environ, IMAGE_LIST=image_list, PREDICT_PATH="/predictions/resnet18")
    out = subprocess.run(["wrk", "-t", "2", "-c", str(clients), "-d", "%ds" % seconds,
                          "--timeout", "30s", "-s", os.path.join(HERE, "serve_post.lua"),
                          "http://127.0.0.1:%d" % port],
                         env=env, capture_output=True, timeout=seconds + 120, check=True)
    line = [l for l in out.stdout.decode().splitlines() if l.startswith("JSON ")][-1]
    r = json.loads(line[5:])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


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
    start_load = quiet_section_start("serve bench", args.max_load)
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
    servers = {b: Server(args.build, model, b, args.delay_ms, args.threads) for _, b in configs}
    runs = {b: [] for _, b in configs}
    try:
        for b in servers:  # warm-up: first forward passes and page faults
            wrk(servers[b].port, image_list, 3, args.clients)
            servers[b].wait_idle()
        for rnd in range(args.rounds):
            for _, b in (configs if rnd % 2 == 0 else configs[::-1]):
                r = wrk(servers[b].port, image_list, args.seconds, args.clients)
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
