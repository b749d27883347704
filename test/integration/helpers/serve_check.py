#!/usr/bin/env python3
"""Tests of imgclass-serve (examples/serve) with real HTTP clients, all on
127.0.0.1, each bounded in time (test/integration/serve_*.sh run them).

  serve_check.py api BUILD MODELS       every endpoint, raw and multipart
      bodies (http.client, requests, curl), every error status with its JSON,
      answers equal to `imgclass classify`, /metrics, SIGTERM exits 0
  serve_check.py load BUILD MODELS      32 clients x 20 requests while 200
      idle and slow connections are held open, batches > 1 in /metrics,
      413 without reading the body, garbage bytes, half requests, malformed
      multipart, early disconnects; then SIGTERM with requests in flight
  serve_check.py browser BUILD MODELS [SCREENSHOT]  the web page in headless
      Chromium (Selenium): upload an image, compare the displayed top-1
      with the API's answer; keeps a screenshot
Exits 0 when every check passed, 1 on a failure, 77 when it cannot run here.
"""
import atexit
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
from PIL import Image

from sanitizer_report import report as sanitizer_report

PP = ["--size", "8x8", "--crop", "none"]  # the tiny model takes 3x8x8
FAILURES = []


def check(cond, what):
    if cond:
        print("ok:", what)
    else:
        print("FAIL:", what)
        FAILURES.append(what)
    return cond


def finish():
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")
    sys.exit(0)


# ------------------------------------------------------------------ server

class Server:
    """imgclass-serve on ephemeral loopback ports, its log collected."""

    def __init__(self, build, models, *extra, labels=True, env=None):
        m = models
        spec = "tiny=%s/tiny.pt" % m + (":%s/labels_synset.txt" % m if labels else "")
        self.cmd = [os.path.join(build, "imgclass-serve"), "--model", spec,
                    "--model", "plain=%s/tiny.pt" % m, "--listen", "127.0.0.1:0",
                    "--metrics-listen", "127.0.0.1:0"] + PP + list(extra)
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)
        self.log = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        deadline = time.time() + 120  # libtorch start-up, slower under ASan
        while not self.ready.wait(0.1):
            if self.proc.poll() is not None or time.time() > deadline:
                self.proc.kill()
                self.reader.join(5)
                raise RuntimeError("server did not start: %s\n%s" %
                                   (" ".join(self.cmd), self.text_log()))

    PORTS = re.compile(rb"listening on http://127\.0\.0\.1:(\d+), metrics on "
                       rb"http://127\.0\.0\.1:(\d+)/metrics")

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)
            m = self.PORTS.search(line)
            if m:
                self.port, self.metrics_port = int(m.group(1)), int(m.group(2))
                self.ready.set()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self, timeout=60):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.reader.join(5)
        # Whatever the exit status: sanitizer_report.py says why.
        rep = sanitizer_report(self.text_log())
        if rep:
            check(False, "imgclass-serve's log holds a sanitizer report:\n" + rep)
        return rc

    def text_log(self):
        return b"".join(self.log).decode(errors="replace")


def request(port, method, path, body=None, headers=None, timeout=60):
    """(status, headers dict, body bytes) with http.client."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def check_error(resp, code, type_, what, message_part=None):
    status, headers, body = resp
    try:
        j = json.loads(body)
    except ValueError:
        return check(False, "%s: %d with a JSON body, got %d %r" % (what, code, status, body[:200]))
    ok = (status == code and j.get("code") == code and j.get("type") == type_ and
          isinstance(j.get("message"), str) and j["message"] and
          headers.get("content-type", "").startswith("application/json") and
          (message_part is None or message_part in j["message"]))
    return check(ok, "%s: %d %s (%s)" % (what, code, type_, j.get("message")) if ok else
                 "%s: want %d %s%s, got %d %s" % (what, code, type_,
                                                  " with '%s'" % message_part if message_part
                                                  else "", status, body[:300]))


def metrics(server):
    status, _, body = request(server.metrics_port, "GET", "/metrics")
    values = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return status, body.decode(), values


# ------------------------------------------------------------------ images

def make_images(folder, count=8, seed=3):
    """Photos of several sizes and formats; returns their paths."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        h, w = [(31, 23), (64, 48), (17, 40), (100, 75)][i % 4]
        y, x = np.mgrid[0:h, 0:w]
        img = np.stack([(x * (i + 3) * 7) % 256, (y * (i + 5) * 5) % 256,
                        rng.integers(0, 256, (h, w))], -1).astype(np.uint8)
        ext = ["png", "jpg", "bmp", "png"][i % 4]
        p = os.path.join(folder, "img%02d.%s" % (i, ext))
        Image.fromarray(img).save(p)
        paths.append(p)
    return paths


def big_image(folder, name="big.png", size=1000):
    """A large image (slow to decode) to keep the pipeline busy."""
    rng = np.random.default_rng(11)
    p = os.path.join(folder, name)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(p, compress_level=1)
    return p


def classify_reference(build, models, paths, labels=True, topk=5):
    """What `imgclass classify` answers for each path: {path: [(label|index, prob)...]}."""
    cmd = [os.path.join(build, "imgclass"), "classify", "--model", "%s/tiny.pt" % models,
           "--json", "--topk", str(topk), "--no-progress"] + PP
    if labels:
        cmd += ["--labels", "%s/labels_synset.txt" % models]
    r = subprocess.run(cmd + paths, capture_output=True, timeout=120)
    rep = sanitizer_report(r.stderr)
    if rep:
        check(False, "imgclass classify (the reference): a sanitizer report:\n" + rep)
    r.check_returncode()
    out = r.stdout
    ref = {}
    for line in out.decode().splitlines():
        rec = json.loads(line)
        ref[rec["path"]] = [(t["label"] if labels else str(t["index"]), t["probability"])
                            for t in rec["top"]]
    return ref


def same_answer(pairs, ref, tol=1e-6):
    """pairs: [(key, prob)] in the server's order; ref: the same from classify."""
    return (len(pairs) == len(ref) and
            all(a[0] == b[0] and abs(a[1] - b[1]) <= tol for a, b in zip(pairs, ref)))


def ordered_pairs(body):
    return json.loads(body, object_pairs_hook=list)


# --------------------------------------------------------------------- api

def cmd_api(build, models):
    import requests
    tmp = tempfile.mkdtemp(prefix="imgclass-serve-api.")
    paths = make_images(tmp)
    ref = classify_reference(build, models, paths)
    ref_plain = classify_reference(build, models, paths, labels=False)
    bad = os.path.join(tmp, "corrupt.jpg")
    with open(paths[1], "rb") as f:
        data = f.read()
    with open(bad, "wb") as f:
        f.write(data[: len(data) // 3])

    srv = Server(build, models, "--max-request-bytes", "200000", "--quiet")
    P = srv.port
    try:
        # health and management
        st, h, b = request(P, "GET", "/ping")
        check(st == 200 and json.loads(b) == {"status": "Healthy"}, "GET /ping: Healthy")
        st, h, b = request(P, "GET", "/models")
        names = [m["modelName"] for m in json.loads(b)["models"]]
        check(st == 200 and names == ["tiny", "plain"], "GET /models lists both models: %s" % names)
        st, h, b = request(P, "GET", "/models/tiny")
        d = json.loads(b)[0] if st == 200 else {}
        check(d.get("modelName") == "tiny" and d.get("modelVersion") == "1.0" and
              d.get("input") == {"channels": 3, "height": 8, "width": 8} and
              d.get("classes") == 5 and d.get("batchSize") == 8 and
              d.get("queueCapacity") == 32 and d.get("queueDepth") == 0 and
              d.get("labels", "").endswith("labels_synset.txt"),
              "GET /models/tiny describes input, classes, batch and queue: %s" % d)
        st, h, b = request(P, "GET", "/models/tiny/1.0")
        check(st == 200, "GET /models/tiny/1.0")
        check_error(request(P, "GET", "/models/nope"), 404, "ModelNotFoundException",
                    "GET /models/nope", "nope")
        st, h, b = request(P, "OPTIONS", "/")
        d = json.loads(b)
        check(st == 200 and "/predictions/{model_name}" in d.get("paths", {}) and
              d.get("x-models") == ["tiny", "plain"], "OPTIONS / describes the API")
        st, h, b = request(P, "GET", "/")
        check(st == 200 and h["content-type"].startswith("text/html") and b"<html" in b and
              b"/predictions/" in b and b"src=" not in b.replace(b"preview.src", b""),
              "GET / serves the self-contained page (%d bytes)" % len(b))
        st, h, b = request(P, "HEAD", "/ping")
        check(st == 200 and b == b"", "HEAD /ping")
        # Keep-alive for the routes without a body too: a load balancer's
        # health checks reuse one connection (and over TLS one handshake).
        for port, routes in ((P, ("/ping", "/models", "/v2/health/ready")),
                             (srv.metrics_port, ("/metrics", "/metrics"))):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                for path in routes:
                    c.request("GET", path)
                    resp = c.getresponse()
                    resp.read()
                    check(resp.status == 200 and not resp.will_close and
                          (resp.getheader("Connection") or "").lower() != "close",
                          "GET %s keeps the connection alive" % path)
            finally:
                c.close()
        # With a body it takes none: refused at once (the body unread).
        st, h, b = request(P, "POST", "/ping", body=b"x" * 1000)
        check(st == 405, "POST /ping with a body: 405 (%d)" % st)
        st, h, b = request(srv.metrics_port, "POST", "/metrics", body=b"x" * 1000)
        check(st == 405, "POST /metrics with a body: 405 (%d)" % st)

        # predictions, every way a client sends the image
        for i, p in enumerate(paths):
            with open(p, "rb") as f:
                img = f.read()
            st, h, b = request(P, "POST", "/predictions/tiny", img,
                               {"Content-Type": "application/octet-stream"})
            check(st == 200 and h["content-type"] == "application/json" and
                  same_answer(ordered_pairs(b), ref[p]),
                  "raw POST (http.client) %s equals imgclass classify" % os.path.basename(p))
            field = "data" if i % 2 else "file"
            r = requests.post(srv.url("/predictions/tiny"), files={field: open(p, "rb")},
                              timeout=60)
            check(r.status_code == 200 and same_answer(ordered_pairs(r.content), ref[p]),
                  "multipart field '%s' (requests) %s" % (field, os.path.basename(p)))
            r = requests.post(srv.url("/predictions/plain"), data=img, timeout=60)
            check(r.status_code == 200 and same_answer(ordered_pairs(r.content), ref_plain[p]),
                  "model without labels: class indices as keys, %s" % os.path.basename(p))
        p = paths[0]
        for args, what in [(["-T", p], "curl -T (PUT)"),
                           (["--data-binary", "@" + p], "curl --data-binary (form type)"),
                           (["-F", "data=@" + p], "curl -F data=@"),
                           (["-F", "note=hello", "-F", "file=@" + p + ";type=image/png"],
                            "curl -F with another field first")]:
            out = subprocess.run(["curl", "-sS", "--max-time", "60", "-w", "\n%{http_code}"] +
                                 args + [srv.url("/predictions/tiny")], capture_output=True)
            text, code = out.stdout.decode().rsplit("\n", 1)
            check(code == "200" and same_answer(ordered_pairs(text), ref[p]), what)
        with open(p, "rb") as f:
            img = f.read()
        st, h, b = request(P, "POST", "/predictions/tiny/1.0?topk=2", img)
        check(st == 200 and same_answer(ordered_pairs(b), ref[p][:2]),
              "/predictions/tiny/1.0?topk=2 gives the best two")
        st, h, b = request(P, "POST", "/predictions/tiny?topk=99", img)
        check(st == 200 and len(json.loads(b)) == 5, "topk over the classes is clamped to 5")
        st, h, b = request(P, "POST", "/predictions/tiny?format=imgclass&topk=3", img)
        d = json.loads(b)
        check(st == 200 and [t["label"] for t in d["top"]] == [k for k, _ in ref[p][:3]] and
              all(abs(t["probability"] - q) <= 1e-6 for t, (_, q) in zip(d["top"], ref[p])) and
              d["model"] == "tiny" and d["batch_size"] >= 1 and d["latency_us"] > 0 and
              all(isinstance(t["index"], int) for t in d["top"]),
              "?format=imgclass: top with index, label, probability; batch and latency")

        # errors, each with TorchServe's JSON
        check_error(request(P, "POST", "/predictions/nope", img), 404, "ModelNotFoundException",
                    "unknown model", "nope")
        check_error(request(P, "POST", "/predictions/tiny/2.0", img), 404,
                    "ModelVersionNotFoundException", "unknown version", "2.0")
        check_error(request(P, "GET", "/nothing/here"), 404, "ResourceNotFoundException",
                    "unknown path")
        check_error(request(P, "GET", "/metrics"), 404, "ResourceNotFoundException",
                    "/metrics is on the metrics address only")
        resp = request(P, "DELETE", "/ping")
        check_error(resp, 405, "MethodNotAllowedException", "DELETE /ping")
        check(resp[1].get("allow") == "GET, HEAD, OPTIONS", "405 names the allowed methods")
        check_error(request(P, "GET", "/predictions/tiny"), 405, "MethodNotAllowedException",
                    "GET /predictions/tiny")
        with open(bad, "rb") as f:
            resp = request(P, "POST", "/predictions/tiny", f.read())
        check_error(resp, 400, "BadRequestException", "truncated JPEG", "corrupt")
        check_error(request(P, "POST", "/predictions/tiny", b"this is not an image"), 400,
                    "BadRequestException", "text body", "unsupported format")
        check_error(request(P, "POST", "/predictions/tiny", b""), 400, "BadRequestException",
                    "empty body", "Empty request body")
        r = requests.post(srv.url("/predictions/tiny"), files={"other": open(p, "rb")}, timeout=60)
        check_error((r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content), 400,
                    "BadRequestException", "multipart without data/file", "no field")
        check_error(request(P, "POST", "/predictions/tiny", b"--x\r\nnot a part",
                            {"Content-Type": "multipart/form-data"}),
                    400, "BadRequestException", "multipart without a boundary", "multipart")
        check_error(request(P, "POST", "/predictions/tiny?topk=0", img), 400,
                    "BadRequestException", "topk=0", "topk")
        check_error(request(P, "POST", "/predictions/tiny?format=xml", img), 400,
                    "BadRequestException", "unknown format", "format")
        check_error(request(P, "POST", "/predictions/tiny", b"x" * 300000), 413,
                    "RequestEntityTooLargeException", "body over --max-request-bytes", "200000")
        # the bad requests above did not hurt the next good one
        st, h, b = request(P, "POST", "/predictions/tiny", img)
        check(st == 200 and same_answer(ordered_pairs(b), ref[p]), "good request after errors")

        # metrics
        st, text, v = metrics(srv)
        n = v.get('ts_inference_requests_total{model_name="tiny",model_version="1.0"}', 0)
        check(st == 200 and n >= len(paths) * 2 + 8,
              "ts_inference_requests_total counts the tiny model's images: %d" % n)
        for name in ["ts_inference_latency_microseconds", "ts_queue_latency_microseconds"]:
            key = '%s{model_name="tiny",model_version="1.0"}' % name
            check(v.get(key, 0) > 0 and "# TYPE %s counter" % name in text, "%s > 0" % name)
        check(v.get('imgclass_http_responses_total{code="404"}', 0) >= 5 and
              v.get('imgclass_http_responses_total{code="413"}', 0) >= 1 and
              v.get('imgclass_http_responses_total{code="405"}', 0) >= 2,
              "error counters by status code")
        check(v.get('imgclass_images_failed_total{model_name="tiny",model_version="1.0"}', 0) >= 2,
              "failed images counted")
        check_error(request(srv.metrics_port, "GET", "/other"), 404, "ResourceNotFoundException",
                    "metrics address: unknown path")
        check_error(request(srv.metrics_port, "POST", "/metrics", b"x"), 405,
                    "MethodNotAllowedException", "metrics address: POST")
    finally:
        rc = srv.stop()
    check(rc == 0, "SIGTERM: exit status %s" % rc)
    if rc != 0:
        print(srv.text_log()[-3000:])

    # 503 when the queue is full: one slot, images that take long to decode
    big = big_image(tmp)
    with open(big, "rb") as f:
        big_bytes = f.read()
    srv = Server(build, models, "--queue", "1", "--batch", "1", "--quiet")
    try:
        results = []
        lock = threading.Lock()

        def one():
            try:
                r = request(srv.port, "POST", "/predictions/tiny", big_bytes)
            except OSError as e:
                r = (repr(e), {}, b"")
            with lock:
                results.append(r)
        ts = [threading.Thread(target=one) for _ in range(12)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        codes = sorted(str(r[0]) for r in results)
        check(len(results) == 12 and set(codes) <= {"200", "503"} and "200" in codes and "503" in codes,
              "a full queue answers 503, the accepted requests 200: %s" % codes)
        busy = [r for r in results if r[0] == 503]
        if busy:
            check_error(busy[0], 503, "ServiceUnavailableException", "queue full", "queue")
    finally:
        rc = srv.stop()
    check(rc == 0, "SIGTERM: exit status %s" % rc)

    finish()


# -------------------------------------------------------------------- load

def raw_exchange(port, data, read=True, timeout=10):
    """Sends raw bytes; returns what came back until the server closed or
    the timeout (b"" when not read)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if data:
            s.sendall(data)
        if not read:
            return b""
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def status_of(raw):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return int(m.group(1)) if m else None


def cmd_load(build, models):
    import requests
    tmp = tempfile.mkdtemp(prefix="imgclass-serve-load.")
    paths = make_images(tmp, count=8)
    ref = classify_reference(build, models, paths)
    blobs = {p: open(p, "rb").read() for p in paths}
    srv = Server(build, models, "--batch", "8", "--max-batch-delay-ms", "20", "--queue", "256",
                 "--max-connections", "400", "--timeout-s", "30", "--max-request-bytes", "100000",
                 "--quiet")
    P = srv.port
    held = []
    try:
        # 200 idle or slow connections, held open for the whole load
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", P), timeout=10)
            if i % 2:  # slowloris: a request that never ends its headers
                s.sendall(b"POST /predictions/tiny HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        check(len(held) == 200, "200 idle and half-sent connections open")

        # 32 clients x 20 requests, with abuse going on at the same time
        errors = []
        answered = [0]
        lock = threading.Lock()

        def client(n):
            rnd = random.Random(n)
            sess = requests.Session()
            for j in range(20):
                p = rnd.choice(paths)
                try:
                    if (n + j) % 2:
                        r = sess.post(srv.url("/predictions/tiny"), data=blobs[p], timeout=60)
                    else:
                        r = sess.post(srv.url("/predictions/tiny"), files={"data": blobs[p]},
                                      timeout=60)
                    ok = r.status_code == 200 and same_answer(ordered_pairs(r.content), ref[p])
                    if not ok:
                        with lock:
                            errors.append("client %d request %d: %d %s" %
                                          (n, j, r.status_code, r.content[:200]))
                except Exception as e:  # noqa: BLE001 - any failure is a test failure
                    with lock:
                        errors.append("client %d request %d: %r" % (n, j, e))
                else:
                    with lock:
                        answered[0] += 1

        abuse_results = {}

        def abuse():
            big = b"POST /predictions/tiny HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n"
            # 413 from the headers alone: no body byte is ever sent
            abuse_results["413"] = status_of(raw_exchange(P, big))
            abuse_results["413-expect"] = status_of(raw_exchange(
                P, big.replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n")))
            # garbage bytes and malformed HTTP
            abuse_results["garbage"] = raw_exchange(P, bytes(random.Random(5).getrandbits(8)
                                                             for _ in range(3000)))
            abuse_results["bad-line"] = raw_exchange(P, b"GARBAGE\r\n\r\n")
            abuse_results["bad-version"] = raw_exchange(P, b"GET /ping HTTP/7.9\r\n\r\n")
            # a body without Content-Length past the limit: closed, unanswered
            chunked = (b"POST /predictions/tiny HTTP/1.1\r\nHost: x\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n" +
                       (b"8000\r\n" + b"z" * 0x8000 + b"\r\n") * 5)
            abuse_results["chunked-over"] = raw_exchange(P, chunked)
            # malformed multipart
            mp = (b"--B\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n"
                  b"\x89PNG broken and never terminated")
            abuse_results["multipart"] = raw_exchange(
                P, b"POST /predictions/tiny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   b"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: %d\r\n\r\n"
                   % len(mp) + mp)
            # half requests: the body stops short, then the client leaves
            for _ in range(10):
                raw_exchange(P, b"POST /predictions/tiny HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Length: 5000\r\n\r\n" + blobs[paths[0]][:100], read=False)
            # early disconnects: whole requests, gone before the answer
            for i in range(20):
                p = paths[i % len(paths)]
                raw_exchange(P, b"POST /predictions/tiny HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Length: %d\r\n\r\n" % len(blobs[p]) + blobs[p],
                             read=False)

        t0 = time.time()
        ts = [threading.Thread(target=client, args=(n,)) for n in range(32)]
        ab = threading.Thread(target=abuse)
        for t in ts:
            t.start()
        ab.start()
        for t in ts:
            t.join(180)
        ab.join(180)
        took = time.time() - t0
        check(not errors and answered[0] == 640,
              "32 clients x 20 requests, all answered and equal to imgclass classify "
              "(%d in %.1f s)%s" % (answered[0], took, "" if not errors else
                                    ": %d wrong, first: %s" % (len(errors), errors[:3])))
        check(abuse_results.get("413") == 413 and abuse_results.get("413-expect") == 413,
              "Content-Length over the limit: 413 without sending the body (%s, %s)" %
              (abuse_results.get("413"), abuse_results.get("413-expect")))
        for k in ["garbage", "bad-line", "bad-version"]:
            st = status_of(abuse_results.get(k, b""))
            check(st is None or 400 <= st < 600, "%s: error answer or closed (%s)" % (k, st))
        check(status_of(abuse_results.get("chunked-over", b"x")) is None,
              "chunked body past the limit: connection closed without an answer")
        check(status_of(abuse_results.get("multipart", b"")) == 400 and
              b"BadRequestException" in abuse_results.get("multipart", b""),
              "malformed multipart: 400 JSON")

        st, text, v = metrics(srv)
        lab = 'model_name="tiny",model_version="1.0"'
        batches = sum(v.get('imgclass_batches_total{%s,cut="%s"}' % (lab, c), 0)
                      for c in ("full", "deadline", "flush"))
        images = v.get("imgclass_batched_images_total{%s}" % lab, 0)
        biggest = v.get("imgclass_batch_size_max{%s}" % lab, 0)
        check(batches > 0 and images / batches > 1 and biggest > 1,
              "dynamic batching across requests: %d images in %d batches (mean %.2f, max %d)" %
              (images, batches, images / max(batches, 1), biggest))
        # the early-disconnect requests may still be finishing: allow them a moment
        deadline = time.time() + 10
        while v.get("imgclass_queue_depth{%s}" % lab, -1) != 0 and time.time() < deadline:
            time.sleep(0.1)
            st, text, v = metrics(srv)
        check(v.get("imgclass_queue_depth{%s}" % lab, -1) == 0,
              "queue empty after the load (%s; %s submitted, %s answered)" %
              (v.get("imgclass_queue_depth{%s}" % lab),
               v.get("imgclass_images_submitted_total{%s}" % lab),
               v.get("ts_inference_requests_total{%s}" % lab)))
        # idle connections did not starve anyone; they are still open
        st, _, _ = request(P, "GET", "/ping")
        check(st == 200, "ping answered with 200 idle connections still open")
    finally:
        for s in held:
            s.close()
        rc = srv.stop()
    check(rc == 0, "SIGTERM after the load: exit status %s (leaks fail it under ASan)" % rc)
    if rc != 0:
        print(srv.text_log()[-4000:])

    # SIGTERM with requests in flight: held in a batch that waits for its
    # deadline, they must all be answered, and new connections refused.
    # One more request is held by the test itself (headers sent, body not
    # yet): the server cannot exit before it ends (--timeout-s 20), so the
    # refusal is looked for while the server is certainly still draining,
    # on state (the SIGTERM line in its log, then the port), not after a
    # fixed pause.
    srv = Server(build, models, "--batch", "64", "--max-batch-delay-ms", "1500", "--quiet",
                 "--timeout-s", "20")
    results = []
    lock = threading.Lock()

    def one(p):
        try:
            r = request(srv.port, "POST", "/predictions/tiny", blobs[p])
            ok = r[0] == 200 and same_answer(ordered_pairs(r[2]), ref[p])
        except Exception as e:  # noqa: BLE001
            ok = repr(e)
        with lock:
            results.append(ok)
    ts = [threading.Thread(target=one, args=(paths[i % len(paths)],)) for i in range(12)]
    for t in ts:
        t.start()
    slow_path = paths[0]
    slow = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
    # "100 Continue" comes once the server has taken the request in (its
    # handler ran): from then on the request is in flight.
    slow.sendall(b"POST /predictions/tiny HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(blobs[slow_path]))
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = slow.recv(4096)
        if not chunk:
            break
        got += chunk
    check(status_of(got) == 100, "a request held by its body is in flight (%r)" % got[:40])
    deadline = time.time() + 60
    while time.time() < deadline:  # all 12 accepted by the pipeline
        _, _, v = metrics(srv)
        if v.get('imgclass_images_submitted_total{model_name="tiny",model_version="1.0"}') == 12:
            break
        time.sleep(0.05)
    srv.proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 15  # well inside --timeout-s 20: the held request keeps it up
    while b"SIGTERM" not in b"".join(srv.log) and time.time() < deadline:
        time.sleep(0.01)
    refused = False
    while not refused and srv.proc.poll() is None and time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
            time.sleep(0.01)
        except OSError:
            refused = True
    still_up = srv.proc.poll() is None
    slow.sendall(blobs[slow_path])  # the held request ends, and is answered
    answer = b""
    while True:  # the 100 Continue, then the answer
        chunk = slow.recv(65536)
        if not chunk:
            break
        answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        m = re.search(rb"(?i)content-length: *(\d+)", head)
        if m and len(body) >= int(m.group(1)):
            break
    slow.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    for t in ts:
        t.join(60)
    rc = srv.stop()
    check(len(results) == 12 and all(r is True for r in results),
          "SIGTERM with 12 requests in flight: all answered correctly (%s)" % results)
    check(refused and still_up,
          "no new connections accepted after SIGTERM while requests were still in flight")
    check(status_of(head) == 200 and same_answer(ordered_pairs(body), ref[slow_path]),
          "the request whose body came after SIGTERM answered correctly (%r)" % answer[:80])
    check(rc == 0 and b"still open" not in b"".join(srv.log),
          "exit status %s, every request ended before --timeout-s 20" % rc)
    finish()


# ----------------------------------------------------------------- browser

def cmd_browser(build, models, screenshot=None):
    if os.environ.get("SANITIZED") == "1":
        # The page sends the server exactly the requests serve_api makes
        # itself (GET /, /models, POST /predictions/M?format=imgclass&topk),
        # which the sanitizer phase runs: a browser adds a minute and no C.
        print("SKIP: not under the sanitizers: the page's requests are serve_api's")
        sys.exit(77)
    try:
        from selenium import webdriver
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        print("SKIP: python3-selenium is not installed")
        sys.exit(77)
    driver_path = "/usr/bin/chromedriver"
    if not os.path.exists(driver_path) or not os.path.exists("/usr/bin/chromium"):
        print("SKIP: chromium / chromium-driver are not installed")
        sys.exit(77)
    import requests
    tmp = tempfile.mkdtemp(prefix="imgclass-serve-page.")
    # Solid colours the tiny model puts in three different classes, so the
    # page must really update between uploads.
    paths = []
    for name, rgb in [("black", (0, 0, 0)), ("green", (0, 255, 0)), ("red", (255, 0, 0))]:
        paths.append(os.path.join(tmp, name + ".png"))
        Image.new("RGB", (20, 20), rgb).save(paths[-1])
    shown_labels = []
    srv = Server(build, models, "--quiet")
    driver = None
    try:
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=900,900", "--no-first-run", "--disable-extensions"]:
            opts.add_argument(a)
        from selenium.webdriver.chrome.service import Service
        driver = webdriver.Chrome(service=Service(driver_path), options=opts)
        driver.set_page_load_timeout(30)
        driver.get(srv.url("/"))
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) == 2)
        check(True, "page loaded and listed the models")
        for p in paths:
            api = requests.post(srv.url("/predictions/tiny"), data=open(p, "rb"), timeout=60)
            want, want_p = json.loads(api.content, object_pairs_hook=list)[0]
            driver.execute_script("document.getElementById('top1').textContent = '-'")
            driver.find_element(By.ID, "file").send_keys(p)
            wait.until(lambda d: d.find_element(By.ID, "top1").text not in ("", "-"))
            shown = driver.find_element(By.ID, "top1").text
            rows = driver.find_elements(By.CSS_SELECTOR, "#results tr.row")
            first_p = rows[0].find_element(By.CLASS_NAME, "prob").text if rows else ""
            batch = driver.find_element(By.ID, "batch").text
            latency = driver.find_element(By.ID, "latency").text
            shown_labels.append(shown)
            check(shown == want and len(rows) == 5 and first_p == "%.2f%%" % (100 * want_p) and
                  batch.isdigit() and int(batch) >= 1 and latency.endswith(" ms"),
                  "page shows top-1 '%s' %s for %s (API: '%s' %.4f), %d bars, batch %s, %s" %
                  (shown, first_p, os.path.basename(p), want, want_p, len(rows), batch, latency))
        check(len(set(shown_labels)) == 3, "three uploads, three different top-1 classes shown")
        shot = screenshot or os.path.join(tmp, "page.png")
        driver.save_screenshot(shot)
        check(os.path.getsize(shot) > 1000, "screenshot taken: %s" % shot)
    finally:
        if driver is not None:
            driver.quit()
        rc = srv.stop()
    check(rc == 0, "SIGTERM: exit status %s" % rc)
    finish()


def run_check(doc, prefix, commands):
    """The main() of the serve check scripts: `SCRIPT CMD BUILD MODELS [ARG]`,
    CMD a key of `commands` (functions of build, models and the extra
    arguments); every temporary file of the run under one folder, removed at
    exit. The usage (`doc`) and exit status 2 otherwise."""
    if len(sys.argv) < 4 or sys.argv[1] not in commands:
        print(doc)
        sys.exit(2)
    cmd, build, models = sys.argv[1:4]
    tempfile.tempdir = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, tempfile.tempdir, True)
    commands[cmd](build, models, *sys.argv[4:])


def main():
    run_check(__doc__, "imgclass-serve-test.",
              {"api": cmd_api, "load": cmd_load,
               "browser": lambda b, m, driver=None: cmd_browser(b, m, driver)})


if __name__ == "__main__":
    main()
