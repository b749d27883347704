"""imgclass-serve under benchmark: a server on ephemeral loopback ports,
started and stopped within time bounds, and wrk driving it with
bench/serve_post.lua (keep-alive connections, the figures as one JSON line).
Shared by serve_bench.py and serve_fleet_bench.py."""
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
WRK_SCRIPT = os.path.join(HERE, "serve_post.lua")


def require_tool(name, tool, why):
    """Exits (status 1, the reason on stderr) when `tool` is not on PATH:
    a benchmark without its client measures nothing."""
    if not shutil.which(tool):
        sys.exit(f"{name}: {tool} not found on PATH ({why}); install the Debian package "
                 f"{tool} (tools/deps.sh lists it) and rerun")


class Server:
    """imgclass-serve with `args`, its inference API, metrics and (with
    --enable-model-api and --management-listen 127.0.0.1:0) management API
    on ephemeral ports of 127.0.0.1. Raises RuntimeError, with the end of
    its log, when it does not get ready within `start_s` seconds."""
    READY = re.compile(rb"listening on (https?)://127\.0\.0\.1:(\d+), metrics on "
                       rb"http://127\.0\.0\.1:(\d+)")
    MANAGEMENT = re.compile(rb"management API on https?://127\.0\.0\.1:(\d+)")

    def __init__(self, build, args, start_s=300):
        self.cmd = [os.path.join(build, "imgclass-serve"), "--listen", "127.0.0.1:0",
                    "--metrics-listen", "127.0.0.1:0", "--quiet"] + list(args)
        self.log = collections.deque(maxlen=40)  # the end, for error messages
        self.management_port = None
        self._ready = threading.Event()
        self.proc = subprocess.Popen(self.cmd, stderr=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + start_s
        while not self._ready.wait(0.2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop(10)
                raise RuntimeError("imgclass-serve did not get ready (%s): %s\n%s" % (
                    "exited %s" % self.proc.returncode if self.proc.returncode is not None
                    else "not within %d s" % start_s, " ".join(self.cmd), self.text_log()))

    def _drain(self):
        # Read to the end whatever happens, so the server never blocks on a
        # full pipe.
        for line in self.proc.stderr:
            self.log.append(line)
            m = self.MANAGEMENT.search(line)
            if m:
                self.management_port = int(m.group(1))
            m = self.READY.search(line)
            if m:
                self.scheme = m.group(1).decode()
                self.port, self.metrics_port = int(m.group(2)), int(m.group(3))
                self._ready.set()

    def text_log(self):
        return b"".join(self.log).decode(errors="replace")

    def url(self, path=""):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

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
        return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                      timeout=30).read().decode()

    def wait_idle(self, limit=300):
        """Waits until the requests wrk left in flight are answered, so they
        do not run during the next measurement."""
        deadline = time.time() + limit
        while time.time() < deadline:
            depth = [float(l.rsplit(" ", 1)[1]) for l in self.metrics().splitlines()
                     if l.startswith("imgclass_queue_depth{")]
            if depth and max(depth) == 0:
                return
            time.sleep(0.2)

    def mean_batch(self):
        batches = images = 0.0
        for line in self.metrics().splitlines():
            if line.startswith("imgclass_batches_total{"):
                batches += float(line.rsplit(" ", 1)[1])
            elif line.startswith("imgclass_batched_images_total{"):
                images += float(line.rsplit(" ", 1)[1])
        return images / batches if batches else 0.0

    def stop(self, timeout=120):
        """SIGTERM (the server answers what is in flight, then exits 0);
        killed after `timeout` s. Returns the exit status, None if killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self._reader.join(5)
        return rc


def exchange(server, method, path, body=None, headers=None, cafile=None, times=3):
    """Sends the same request `times` times on one connection (http.client,
    keep-alive as HTTP/1.1 has it by default). Returns (answers, kept):
    answers as (status, body bytes), kept True when every answer left the
    connection open for the next request (no `Connection: close`, no close
    by the server)."""
    import http.client
    import ssl
    if server.scheme == "https":
        ctx = ssl.create_default_context(cafile=cafile)
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=60, context=ctx)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    answers, kept = [], True
    try:
        for _ in range(times):
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            answers.append((r.status, r.read()))
            # http.client drops its socket after an answer that ends the
            # connection (Connection: close, or HTTP/1.0 without keep-alive).
            kept = kept and conn.sock is not None
    finally:
        conn.close()
    return answers, kept


def wrk(url, path, body_list, seconds, clients, content_type=None, threads=2):
    """wrk with `clients` keep-alive connections for `seconds` s against
    `url` (http:// or https://), POSTing to `path` the bodies listed in the
    file `body_list` (bench/serve_post.lua says its format). Returns the
    figures of serve_post.lua's JSON line, plus "rps"."""
    env = dict(os.environ, BODY_LIST=body_list, PREDICT_PATH=path)
    if content_type:
        env["CONTENT_TYPE"] = content_type
    cmd = ["wrk", "-t", str(threads), "-c", str(clients), "-d", "%ds" % seconds,
           "--timeout", "30s", "-s", WRK_SCRIPT, url]
    out = subprocess.run(cmd, env=env, capture_output=True, timeout=seconds + 120)
    lines = [l for l in out.stdout.decode(errors="replace").splitlines()
             if l.startswith("JSON ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError("wrk failed (exit %d): %s\n%s%s" % (
            out.returncode, " ".join(cmd), out.stdout.decode(errors="replace")[-1000:],
            out.stderr.decode(errors="replace")[-1000:]))
    r = json.loads(lines[-1][5:])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r
