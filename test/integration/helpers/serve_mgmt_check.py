#!/usr/bin/env python3
"""Tests of imgclass-serve's management API (--enable-model-api), all on
127.0.0.1, each bounded in time (test/integration/serve_models_api.sh runs
them). The server and the checks are serve_check.py's.

  serve_mgmt_check.py api BUILD MODELS      every management endpoint and
      error: off without --enable-model-api, 503 while the start-up models
      load, register / list / describe / unregister, v2 repository index /
      load / unload, unknown model, bad and http(s) urls, paths escaping the
      model store, duplicate versions, lifecycle metrics
  serve_mgmt_check.py hotswap BUILD MODELS  16 clients send requests
      (/predictions, v2 infer with BYTES images and with FP32 tensors) for
      about 10 s while the model they ask for is re-registered 3 times
      (alternating two models with different answers) and another model is
      loaded and unloaded: no request fails, every answer comes from a model
      served under that name at the time (a v2 answer's model_version is
      the one registered with its class count); then a large model is
      loaded and unloaded 4 times and the server's RSS comes back within
      10 %; then v2 FP32 tensors keep the tensor worker busy with that
      large model while it is swapped twice: none fails
  serve_mgmt_check.py secure BUILD MODELS   the management address behind
      the same gate as the inference one: with --token-file every
      management request needs the management token (none, the inference
      token or a wrong one: 401 JSON, and nothing changes); HTTPS with
      --certificate; the per-client limit and the header deadline, counted
      as listener="management"
Exits 0 when every check passed, 1 on a failure.
"""
import base64
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from PIL import Image

from cpu_flags import cpu_has_bf16
from serve_check import (PP, Server, check, finish, metrics, request,
                         run_check)
from serve_v2_check import SLOW_MODEL

CLASSES = {"tiny.pt": 5, "two_class.pt": 2}


def mgmt_port(srv):
    m = re.search(r"management API on https?://127\.0\.0\.1:(\d+)", srv.text_log())
    if not m:
        raise RuntimeError("no 'management API on' line in the log:\n" + srv.text_log())
    return int(m.group(1))


def make_store(models):
    """The model store: the test models, a file that is no model, a link
    out of the store; and a model outside it."""
    top = tempfile.mkdtemp(prefix="imgclass-mgmt.")
    store = os.path.join(top, "store")
    os.mkdir(store)
    for name in ("tiny.pt", "two_class.pt", "not_a_model.txt"):
        shutil.copy(os.path.join(models, name), store)
    shutil.copy(os.path.join(models, "tiny.pt"), os.path.join(top, "outside.pt"))
    os.symlink(os.path.join(top, "outside.pt"), os.path.join(store, "link_out.pt"))
    return top, store


def png_bytes():
    b = io.BytesIO()
    Image.new("RGB", (12, 9), (200, 40, 90)).save(b, "PNG")
    return b.getvalue()


def classes_of(port, name, image):
    st, _, body = request(port, "POST", "/predictions/%s?topk=10" % name, image)
    return st, (len(json.loads(body)) if st == 200 else None)


def precision_of(port, name):
    """The precision GET /models/{name} says the model runs in."""
    st, _, body = request(port, "GET", "/models/%s" % name)
    j = json_of(body) if st == 200 else None
    return j[0].get("precision") if j else None


def json_of(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def check_mgmt_error(resp, code, what, part=None):
    """A management error: 4xx with TorchServe's fields and v2's "error"."""
    st, h, body = resp
    j = json_of(body)
    ok = (st == code and isinstance(j, dict) and isinstance(j.get("error"), str) and
          j.get("error") and j.get("code") == code and
          (part is None or part in j["error"]))
    return check(ok, "%s: %d {\"error\": %r}" % (what, code, j.get("error") if j else None)
                 if ok else "%s: want %d with error%s, got %d %s" %
                 (what, code, " containing %r" % part if part else "", st, body[:300]))


def metric(server, name):
    return metrics(server)[2].get(name)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------ api

def api_while_loading(build, models, top):
    """The server listens before its models are loaded (and warm); the
    management API must not touch the model table meanwhile: 503."""
    slow = os.path.join(top, "slow.pt")
    script = os.path.join(top, "slow_model.py")  # TorchScript reads the source
    with open(script, "w") as f:
        f.write(SLOW_MODEL)
    subprocess.run([sys.executable, script, slow, "20000"], check=True, timeout=120)
    cmd = [os.path.join(build, "imgclass-serve"), "--model", "slow=%s" % slow,
           "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
           "--enable-model-api", "--management-listen", "127.0.0.1:0",
           "--model-store", os.path.join(top, "store"), "--quiet"] + PP
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = []
    found = {}
    known = threading.Event()
    listening = threading.Event()

    def drain():
        for line in proc.stderr:
            log.append(line)
            m = re.search(rb"management API on http://127\.0\.0\.1:(\d+)", line)
            if m:
                found["M"] = int(m.group(1))
            m = re.search(rb"metrics on http://127\.0\.0\.1:(\d+)/metrics", line)
            if m:
                found["metrics"] = int(m.group(1))
            m = re.search(rb"accepting connections on http://127\.0\.0\.1:(\d+)", line)
            if m:
                found["P"] = int(m.group(1))
                known.set()
            if b"listening on http://" in line:
                listening.set()
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        if not known.wait(60) or "M" not in found:
            check(False, "imgclass-serve printed 'management API on' and 'accepting "
                  "connections on' (log: %s)" % b"".join(log).decode(errors="replace"))
            return
        M, P = found["M"], found["P"]
        seen = []
        deadline = time.time() + 240
        while time.time() < deadline and not listening.is_set():
            round_ = []
            # The last rounds may reach the server once it is ready (the
            # log line comes after): the changes asked for fail then (400,
            # 404), so they cannot change what the check below sees.
            for method, path in (("GET", "/models"), ("POST", "/v2/repository/index"),
                                 ("POST", "/models?url=not_a_model.txt&model_name=early"),
                                 ("DELETE", "/models/nosuch")):
                try:
                    st, _, b = request(M, method, path, timeout=30)
                    j = json_of(b)
                    if not isinstance(j, dict):  # once ready: the index is a list
                        j = {}
                    round_.append((st, j.get("code"), "loading" in j.get("error", "")))
                except OSError as e:
                    round_.append((None, repr(e), False))
            # Readiness only ever turns on: still 503 after the round means
            # every request of the round was answered while loading.
            try:
                st_ready = request(P, "GET", "/v2/health/ready", timeout=30)[0]
            except OSError:
                st_ready = None
            seen.append((st_ready == 503, round_))
            time.sleep(0.05)
        loading = [r for still_loading, r in seen if still_loading]
        check(loading != [], "polled the management API while loading: %d rounds" %
              len(loading))
        bad = [r for r in loading if any(x != (503, 503, True) for x in r)]
        check(not bad, "while loading every management request answers 503 \"The models "
              "are still loading\"%s" % (": %s" % bad[:2] if bad else ""))
        check(listening.wait(240), "then the server printed 'listening on' (loaded)")
        st, _, b = request(M, "GET", "/models")
        names = [m["modelName"] for m in json_of(b)["models"]] if st == 200 else None
        check(names == ["slow"], "then GET /models lists slow (%s)" % names)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        reader.join(5)
    check(rc == 0, "loading: SIGTERM exit status %s" % rc)


def cmd_api(build, models):
    top, store = make_store(models)
    image = png_bytes()
    api_while_loading(build, models, top)

    # Off unless --enable-model-api: nothing listens on the management address.
    port = free_port()
    srv = Server(build, models, "--management-listen", "127.0.0.1:%d" % port, "--quiet",
                 labels=False)
    try:
        check("management API" not in srv.text_log(), "without --enable-model-api: no "
              "management API in the log")
        try:
            socket.create_connection(("127.0.0.1", port), 2).close()
            check(False, "without --enable-model-api: port %d refuses connections" % port)
        except OSError:
            check(True, "without --enable-model-api: port %d refuses connections" % port)
        st, _, _ = request(srv.port, "POST", "/models?url=tiny.pt")
        check(st == 405, "POST /models on the inference address: 405 (%d)" % st)
    finally:
        check(srv.stop() == 0, "SIGTERM: exit status 0")

    srv = Server(build, models, "--enable-model-api", "--management-listen", "127.0.0.1:0",
                 "--model-store", store, "--quiet", labels=False)
    try:
        M = mgmt_port(srv)
        P = srv.port
        st, h, b = request(M, "GET", "/models")
        names = [m["modelName"] for m in json_of(b)["models"]] if st == 200 else None
        check(names == ["tiny", "plain"], "GET /models: the start-up models %s" % names)
        st, h, b = request(M, "GET", "/models/tiny")
        d = json_of(b)[0] if st == 200 else {}
        check(d.get("modelVersion") == "1.0" and d.get("loadedAtStartup") is True and
              d.get("classes") == 5, "GET /models/tiny: version 1.0, loaded at start-up")
        check_mgmt_error(request(M, "GET", "/models/nope"), 404, "GET /models/nope", "nope")
        check_mgmt_error(request(M, "GET", "/models/tiny/9.9"), 404, "GET /models/tiny/9.9",
                         "9.9")
        check_mgmt_error(request(M, "GET", "/nothing"), 404, "GET /nothing")
        st, h, _ = request(M, "PUT", "/models")
        check(st == 405 and "POST" in h.get("allow", ""), "PUT /models: 405, Allow %s" %
              h.get("allow"))

        # Bad registrations: each refused with the reason, nothing loaded.
        bad = [
            ("/models", "url is required"),
            ("/models?url=http://example.com/m.pt", "downloads are not supported"),
            ("/models?url=https://example.com/m.pt", "downloads are not supported"),
            ("/models?url=ftp://example.com/m.pt", "unsupported scheme"),
            ("/models?url=../outside.pt", "escapes the model store"),
            ("/models?url=%s" % os.path.join(top, "outside.pt"), "escapes the model store"),
            ("/models?url=link_out.pt", "escapes the model store"),
            ("/models?url=missing.pt", "No such file"),
            ("/models?url=tiny.pt&model_name=bad/name", "Invalid model_name"),
            ("/models?url=tiny.pt&model_name=x&batch_size=0", "Invalid batch_size"),
            ("/models?url=tiny.pt&model_name=x&max_batch_delay=-1", "Invalid max_batch_delay"),
            ("/models?url=tiny.pt&model_name=x&model_version=a%20b", "Invalid model_version"),
            ("/models?url=tiny.pt&model_name=x&precision=fp16", "Invalid precision"),
        ]
        for path, part in bad:
            check_mgmt_error(request(M, "POST", path), 400, "POST %s" % path, part)
        check_mgmt_error(request(M, "POST", "/models?url=not_a_model.txt&model_name=junk"), 400,
                         "POST a file that is no model", "junk")
        st, _, b = request(M, "GET", "/models")
        check(len(json_of(b)["models"]) == 2, "after the refusals: still the 2 start-up models")

        # Register, describe, predict.
        st, _, b = request(M, "POST", "/models?url=two_class.pt&batch_size=4&max_batch_delay=7")
        j = json_of(b) or {}
        check(st == 200 and 'Model "two_class"' in j.get("status", "") and
              "registered" in j["status"], "POST /models?url=two_class.pt: %d %s" % (st, j))
        st, _, b = request(M, "GET", "/models/two_class")
        d = json_of(b)[0] if st == 200 else {}
        check(d.get("batchSize") == 4 and d.get("maxBatchDelay") == 7 and
              d.get("classes") == 2 and d.get("loadedAtStartup") is False and
              d.get("modelUrl", "").endswith("store/two_class.pt"),
              "GET /models/two_class: batch 4, delay 7, 2 classes, from the store")
        check(classes_of(P, "two_class", image) == (200, 2), "prediction on two_class: 2 classes")

        # Duplicate versions: the served version is refused, another swaps.
        st, _, b = request(M, "POST", "/models?url=tiny.pt&model_name=two_class&model_version=5.0")
        check(st == 200 and (json_of(b) or {}).get("modelVersion") == "5.0",
              "re-register two_class as tiny.pt version 5.0: %d %s" % (st, b[:200]))
        check(classes_of(P, "two_class", image) == (200, 5),
              "two_class now answers with tiny.pt's 5 classes")
        check_mgmt_error(request(M, "POST", "/models?url=two_class.pt&model_name=two_class&"
                                 "model_version=5.0"), 409, "register version 5.0 again",
                         "already registered")
        check(classes_of(P, "two_class", image) == (200, 5), "after the 409: still version 5.0")
        st, _, b = request(M, "POST", "/models?url=two_class.pt&model_name=two_class")
        v = (json_of(b) or {}).get("modelVersion")
        check(st == 200 and v not in (None, "5.0"), "re-register without a version: a new "
              "version %s" % v)
        check(classes_of(P, "two_class", image) == (200, 2), "two_class answers with 2 again")
        st, _, b = request(P, "GET", "/models/two_class/%s" % v)
        check(st == 200, "GET /models/two_class/%s on the inference address: 200" % v)
        st, _, b = request(P, "POST", "/predictions/two_class/1.0", image)
        check(st == 404, "POST /predictions/two_class/1.0 (a replaced version): 404 (%d)" % st)

        # Precision per model: a registration may ask for bf16 whatever the
        # command line's --precision (float32 here). On a CPU without native
        # bf16 the load is refused naming it, and the served version stays.
        check(precision_of(M, "two_class") == "float32", "two_class runs float32 (--precision)")
        resp = request(M, "POST", "/models?url=two_class.pt&model_name=two_class&precision=bf16")
        if cpu_has_bf16():
            check(resp[0] == 200, "re-register two_class with precision=bf16: %d %s" %
                  (resp[0], resp[2][:200]))
            check(precision_of(M, "two_class") == "bf16", "two_class now runs bf16")
        else:
            check_mgmt_error(resp, 400, "precision=bf16 on a CPU without native bf16", "bf16")
            check(precision_of(M, "two_class") == "float32", "two_class still runs float32")
        check(classes_of(P, "two_class", image) == (200, 2), "two_class answers after it")
        two_class_precision = precision_of(M, "two_class")
        bf16_swaps = 1 if two_class_precision == "bf16" else 0

        # Unregister.
        check_mgmt_error(request(M, "DELETE", "/models/two_class/9.9"), 404,
                         "DELETE a version not served")
        st, _, b = request(M, "DELETE", "/models/two_class")
        check(st == 200 and (json_of(b) or {}).get("status") == 'Model "two_class" unregistered',
              "DELETE /models/two_class: %d %s" % (st, b[:100]))
        check(classes_of(P, "two_class", image)[0] == 404, "prediction on two_class now: 404")
        check_mgmt_error(request(M, "DELETE", "/models/two_class"), 404, "DELETE it again")
        check_mgmt_error(request(M, "DELETE", "/models/nope"), 404, "DELETE /models/nope")

        # KServe v2 repository extension.
        st, _, b = request(M, "POST", "/v2/repository/index")
        idx = {e["name"]: e for e in (json_of(b) or [])}
        check(st == 200 and idx.get("two_class", {}).get("state") == "UNAVAILABLE" and
              idx.get("tiny", {}).get("state") == "READY",
              "v2 index: tiny READY, two_class UNAVAILABLE: %s" % b[:300])
        st, _, b = request(M, "POST", "/v2/repository/models/two_class/load", b"{}")
        check(st == 200, "v2 load two_class: %d %s" % (st, b[:200]))
        check(classes_of(P, "two_class", image) == (200, 2), "two_class served again (2 classes)")
        check(precision_of(M, "two_class") == two_class_precision,
              "v2 load keeps the precision two_class was registered with (%s)" %
              two_class_precision)
        st, _, b = request(M, "POST", "/v2/repository/index", b'{"ready": true}')
        names = sorted(e["name"] for e in (json_of(b) or []))
        check(st == 200 and names == ["plain", "tiny", "two_class"],
              "v2 index {ready: true}: %s" % names)
        st, _, b = request(M, "POST", "/v2/repository/models/two_class/unload")
        check(st == 200, "v2 unload two_class: %d" % st)
        check(classes_of(P, "two_class", image)[0] == 404, "two_class gone after v2 unload")
        check_mgmt_error(request(M, "POST", "/v2/repository/models/two_class/unload"), 404,
                         "v2 unload it again")
        check_mgmt_error(request(M, "POST", "/v2/repository/models/nosuch/load"), 404,
                         "v2 load a model not in the store", "nosuch")
        check_mgmt_error(request(M, "POST", "/v2/repository/index", b"[1"), 400,
                         "v2 index with a body that is not JSON")
        st, h, _ = request(M, "GET", "/v2/repository/models/tiny/load")
        check(st == 405, "GET on a v2 load path: 405 (%d)" % st)

        # Lifecycle metrics: two_class loaded 4 times (register, 2 swaps,
        # v2 load), unloaded 4 times (2 swaps retired, DELETE, v2 unload),
        # plus the bf16 swap where the CPU has bf16.
        _, text, vals = metrics(srv)
        times = 4 + bf16_swaps
        check(vals.get('imgclass_model_loads_total{model="two_class"}') == times and
              vals.get('imgclass_model_unloads_total{model="two_class"}') == times,
              "metrics: two_class loads %d, unloads %d (%s, %s)" %
              (times, times, vals.get('imgclass_model_loads_total{model="two_class"}'),
               vals.get('imgclass_model_unloads_total{model="two_class"}')))
        check(vals.get('imgclass_model_info{model="tiny",version="1.0"}') == 1 and
              not any(k.startswith('imgclass_model_info{model="two_class"') for k in vals),
              "metrics: imgclass_model_info for tiny 1.0, none for the unloaded two_class")
        check(vals.get('imgclass_model_loads_total{model="tiny"}') == 1,
              "metrics: tiny loaded once")
    finally:
        check(srv.stop() == 0, "SIGTERM: exit status 0")
    finish()


# ------------------------------------------------------------------ hot swap

def make_big_model(path, hidden=98304):
    """A model of about hidden * 768 bytes of weights (75 MB) that all take
    part in the answer, so no optimisation drops them: 3x8x8 -> 5 classes."""
    code = r"""
import sys, torch, torch.nn as nn
class Big(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.a = nn.Linear(192, hidden)
        self.b = nn.Linear(hidden, 5)
    def forward(self, x):
        return self.b(torch.relu(self.a(torch.flatten(x, 1))))
torch.manual_seed(0)
m = torch.jit.trace(Big(int(sys.argv[2])).eval(), torch.zeros(2, 3, 8, 8))
torch.jit.save(m, sys.argv[1])
"""
    subprocess.run([sys.executable, "-c", code, path, str(hidden)], check=True, timeout=120)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cmd_hotswap(build, models):
    top, store = make_store(models)
    big = os.path.join(store, "big.pt")
    make_big_model(big)
    image = png_bytes()
    srv = Server(build, models, "--enable-model-api", "--management-listen", "127.0.0.1:0",
                 "--model-store", store, "--quiet", labels=False)
    try:
        M = mgmt_port(srv)
        P = srv.port
        # (start, end, classes, version) of each registration of "tiny": the
        # switch happens between the start and the end of its POST.
        served = [(0.0, 0.0, 5, "1.0")]
        # (sent, received, status, classes or error, kind, version: v2's)
        results = []
        lock = threading.Lock()
        stop = threading.Event()
        # Three kinds of request on "tiny", each holding the model its own
        # way: /predictions (the pipeline), v2 BYTES (the pipeline, one
        # request's images), v2 FP32 (the tensor worker's forward pass, off
        # the pipeline). Both test models take 3x8x8.
        v2_bytes = json.dumps({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                                           "data": [base64.b64encode(image).decode()]}]})
        v2_tensor = json.dumps({"inputs": [{"name": "input", "datatype": "FP32",
                                            "shape": [1, 3, 8, 8],
                                            "data": [0.25] * (3 * 8 * 8)}]})
        kinds = {"predict": ("/predictions/tiny?topk=10", image),
                 "v2-bytes": ("/v2/models/tiny/infer", v2_bytes),
                 "v2-fp32": ("/v2/models/tiny/infer", v2_tensor)}

        def answer_of(kind, body):
            """(classes, model_version or None) of a 200 answer."""
            j = json.loads(body)
            if kind == "predict":
                return len(j), None
            out = j["outputs"][0]
            return (out["shape"][1] if out["shape"][0] == 1 else None), j["model_version"]

        def client(kind):
            path, payload = kinds[kind]
            conn = http.client.HTTPConnection("127.0.0.1", P, timeout=60)
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    conn.request("POST", path, body=payload)
                    r = conn.getresponse()
                    body = r.read()
                    k, version = answer_of(kind, body) if r.status == 200 else (body[:200], None)
                    out = (t0, time.monotonic(), r.status, k, kind, version)
                except Exception as e:  # a failed request, whatever the cause
                    out = (t0, time.monotonic(), None, repr(e), kind, None)
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", P, timeout=60)
                with lock:
                    results.append(out)
            conn.close()

        names = ["predict"] * 6 + ["v2-bytes"] * 5 + ["v2-fp32"] * 5
        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in names]
        start = time.monotonic()
        for t in threads:
            t.start()
        swaps = []

        def at(seconds):
            time.sleep(max(0.0, start + seconds - time.monotonic()))

        plan = [(1.5, "swap", "two_class.pt"), (3.0, "load", None), (4.5, "swap", "tiny.pt"),
                (6.0, "unload", None), (7.5, "swap", "two_class.pt")]
        for when, what, model in plan:
            at(when)
            t0 = time.monotonic()
            if what == "swap":
                st, _, b = request(M, "POST", "/models?url=%s&model_name=tiny" % model)
                version = json_of(b).get("modelVersion") if st == 200 else None
                served.append((t0, time.monotonic(), CLASSES[model], version))
                swaps.append(st)
                check(st == 200, "re-register tiny as %s under load: %d" % (model, st))
            elif what == "load":
                st, _, b = request(M, "POST", "/models?url=two_class.pt&model_name=extra")
                check(st == 200, "load another model (extra) under load: %d" % st)
                check(classes_of(P, "extra", image) == (200, 2), "extra answers")
            else:
                st, _, b = request(M, "DELETE", "/models/extra")
                check(st == 200, "unload extra under load: %d" % st)
                check(classes_of(P, "extra", image)[0] == 404, "extra is gone")
        at(10.0)
        stop.set()
        for t in threads:
            t.join(70)

        failed = [r for r in results if r[2] != 200]
        count = {k: sum(1 for r in results if r[4] == k) for k in kinds}
        check(len(results) > 100 and all(n > 10 for n in count.values()) and not failed,
              "%d requests (%s) during 3 swaps and a load/unload, %d failed%s" %
              (len(results), count, len(failed), ": %s" % failed[:3] if failed else ""))

        # An answer with k classes is right when a registration with k
        # classes was served at some moment between its send and receive;
        # a v2 answer names its version, which must be that registration's.
        def live(i):
            begin = served[i][0]
            end = served[i + 1][1] if i + 1 < len(served) else float("inf")
            return begin, end

        wrong = []
        by_model = [0] * len(served)
        for sent, got, st, k, kind, version in results:
            if st != 200:
                continue
            ok = False
            for i, (_, _, classes, served_version) in enumerate(served):
                b, e = live(i)
                if (classes == k and (version is None or version == served_version) and
                        b <= got and sent <= e):
                    ok = True
                    if sent >= served[i][1] and (i + 1 == len(served) or got <= served[i + 1][0]):
                        by_model[i] += 1  # certainly this registration's answer
            if not ok:
                wrong.append((kind, sent - start, got - start, k, version))
        check(not wrong, "every answer from a model served under that name at the time%s" %
              (": wrong %s" % wrong[:5] if wrong else ""))
        check(all(n > 0 for n in by_model), "every registration answered requests: %s" % by_model)

        # Memory returns: a 75 MB model loaded and unloaded; the first round
        # settles the allocator, the next 3 must come back within 10 %.
        pid = srv.proc.pid
        grown = []
        base = None
        for round_ in range(4):
            st, _, b = request(M, "POST", "/models?url=big.pt&model_name=big")
            check(st == 200, "load big.pt (round %d): %d %s" % (round_, st, b[:200]))
            check(classes_of(P, "big", image) == (200, 5), "big answers (round %d)" % round_)
            loaded = rss_kb(pid)
            st, _, b = request(M, "DELETE", "/models/big")
            check(st == 200, "unload big (round %d): %d" % (round_, st))
            after = rss_kb(pid)
            print("round %d: RSS %d kB loaded, %d kB after unload" % (round_, loaded, after))
            if base is None:
                base = after
            else:
                grown.append(loaded - base)
        final = rss_kb(pid)
        if os.environ.get("SANITIZED") == "1":
            # ASan's quarantine holds freed memory back: RSS says nothing
            # there. The rounds above still ran (a use after free or a leak
            # of the unloaded model is ASan's and LeakSanitizer's to report).
            print("not checked under ASan: RSS after unload (%d kB, %d kB before)" %
                  (final, base))
        else:
            check(min(grown) > 40000, "loading big.pt grows RSS by > 40 MB (%s kB): the check "
                  "below can see a leak" % grown)
            check(final <= base * 1.10, "RSS after 3 more load/unload rounds %d kB within 10 %% "
                  "of %d kB" % (final, base))
        _, _, vals = metrics(srv)
        check(vals.get('imgclass_model_loads_total{model="tiny"}') == 4 and
              vals.get('imgclass_model_unloads_total{model="tiny"}') == 3 and
              vals.get('imgclass_model_loads_total{model="big"}') == 4 and
              vals.get('imgclass_model_unloads_total{model="big"}') == 4,
              "metrics count the swaps and the rounds")

        # v2 FP32 tensors run on the tensor worker, off the pipeline, so the
        # pipeline's drain does not cover them: each request's reference
        # must. 8 clients keep the worker's queue full of batches for the
        # 75 MB model (its weights are unmapped when it is freed) while it
        # is swapped twice: every request is answered, by a version that
        # was served.
        st, _, b = request(M, "POST", "/models?url=big.pt&model_name=slow")
        check(st == 200, "load big.pt as slow: %d" % st)
        tensor4 = json.dumps({"inputs": [{"name": "input", "datatype": "FP32",
                                          "shape": [4, 3, 8, 8],
                                          "data": [0.5] * (4 * 3 * 8 * 8)}]})
        slow_results = []
        stop_slow = threading.Event()

        def slow_client():
            while not stop_slow.is_set():
                try:
                    st, _, body = request(P, "POST", "/v2/models/slow/infer", tensor4)
                    j = json_of(body) if st == 200 else None
                    out = (st, j["model_version"] if j else body[:200],
                           j["outputs"][0]["shape"] if j else None)
                except Exception as e:  # the server crashed, or closed on us
                    out = (None, repr(e), None)
                with lock:
                    slow_results.append(out)

        slow_threads = [threading.Thread(target=slow_client, daemon=True) for _ in range(8)]
        for t in slow_threads:
            t.start()
        time.sleep(1.0)
        versions = ["1.0"]
        for _ in range(2):
            try:
                st, _, b = request(M, "POST", "/models?url=big.pt&model_name=slow")
            except OSError as e:  # the server crashed
                st, b = None, repr(e).encode()
            check(st == 200, "swap slow under v2 tensor load: %s %s" % (st, b[:120]))
            versions.append(json_of(b).get("modelVersion") if st == 200 else None)
            time.sleep(1.0)
        stop_slow.set()
        for t in slow_threads:
            t.join(70)
        bad = [r for r in slow_results
               if r[0] != 200 or r[1] not in versions or r[2] != [4, 5]]
        seen = sorted(set(r[1] for r in slow_results if r[0] == 200))
        check(len(slow_results) > 20 and not bad,
              "%d v2 FP32 requests across 2 swaps of slow, all answered by a served version "
              "(%s of %s)%s" % (len(slow_results), seen, versions,
                                ": bad %s" % bad[:3] if bad else ""))
        check(srv.proc.poll() is None, "the server still runs after the tensor swaps")
    finally:
        check(srv.stop() == 0, "SIGTERM: exit status 0")
    finish()


# ------------------------------------------------------------------ secure

INF, MGMT = "inf-Tok3n_A", "mgmt-Tok3n_B"


class TlsServer(Server):
    PORTS = re.compile(rb"listening on https://127\.0\.0\.1:(\d+), metrics on "
                       rb"http://127\.0\.0\.1:(\d+)/metrics")


def secret(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def management_names(M, headers):
    st, _, b = request(M, "GET", "/models", headers=headers)
    return [m["modelName"] for m in json_of(b)["models"]] if st == 200 else None


def check_unauthorized(resp, challenge, what):
    st, h, raw = resp
    j = json_of(raw) or {}
    check(st == 401 and j.get("code") == 401 and isinstance(j.get("error"), str) and
          h.get("www-authenticate") == challenge and
          h.get("content-type", "").startswith("application/json"),
          "%s: 401, JSON error, WWW-Authenticate %s (%d %s %r)" %
          (what, challenge, st, h.get("www-authenticate"), raw[:100]))


def secure_tokens(build, models, store, top):
    keyfile = secret(os.path.join(top, "key_file.json"), json.dumps(
        {"management": {"key": MGMT}, "inference": {"key": INF}}))
    srv = Server(build, models, "--enable-model-api", "--management-listen", "127.0.0.1:0",
                 "--model-store", store, "--token-file", keyfile, labels=False)
    bearer = lambda t: {"Authorization": "Bearer " + t}
    try:
        M = mgmt_port(srv)
        P = srv.port
        calls = [("GET", "/models"), ("GET", "/models/tiny"),
                 ("POST", "/models?url=two_class.pt&model_name=intruder"),
                 ("DELETE", "/models/tiny"), ("POST", "/v2/repository/index"),
                 ("POST", "/v2/repository/models/two_class/load"),
                 ("POST", "/v2/repository/models/tiny/unload")]
        cases = [("no token", {}, "Bearer"),
                 ("the inference token", bearer(INF), 'Bearer error="invalid_token"'),
                 ("a wrong token", bearer("nope"), 'Bearer error="invalid_token"'),
                 ("a prefix of the management token", bearer(MGMT[:-1]),
                  'Bearer error="invalid_token"')]
        for what, h, challenge in cases:
            for method, path in calls:
                check_unauthorized(request(M, method, path, headers=h), challenge,
                                   "management %s %s with %s" % (method, path, what))
        # Nothing the refused requests asked for happened.
        names = management_names(M, bearer(MGMT))
        check(names is not None and sorted(names) == ["plain", "tiny"],
              "after the refusals the models are still tiny and plain (%s)" % names)
        st, _, _ = request(P, "POST", "/predictions/tiny", image_of(), headers=bearer(INF))
        check(st == 200, "tiny still answers with the inference token (%d)" % st)
        # The management token does everything.
        st, _, b = request(M, "POST", "/models?url=two_class.pt&model_name=extra",
                           headers=bearer(MGMT))
        check(st == 200, "register with the management token: 200 (%d %s)" % (st, b[:120]))
        st, _, b = request(P, "POST", "/predictions/extra", image_of(), headers=bearer(INF))
        check(st == 200 and len(json.loads(b)) == 2, "extra answers on the inference address")
        st, _, _ = request(M, "POST", "/v2/repository/models/extra/unload", headers=bearer(MGMT))
        check(st == 200, "v2 unload with the management token: 200 (%d)" % st)
        # ... and only on its own address.
        check_unauthorized(request(P, "GET", "/models", headers=bearer(MGMT)),
                           'Bearer error="invalid_token"',
                           "the management token on the inference address")
        _, text, v = metrics(srv)
        check(v.get('imgclass_http_responses_total{code="401"}', 0) == len(cases) * len(calls) + 1,
              "/metrics counts every 401 of both addresses (%s, want %d)" %
              (v.get('imgclass_http_responses_total{code="401"}'), len(cases) * len(calls) + 1))
        check('imgclass_connections_open{listener="management"}' in text,
              "/metrics has the management listener's connection families")
    finally:
        rc = srv.stop()
    check(rc == 0, "tokens: SIGTERM exit status %s" % rc)
    log = srv.text_log()
    check("management API: plain HTTP, management token required" in log,
          "the start-up log says the management API needs its token")
    check(INF not in log and MGMT not in log, "no token appears in the log")


_image = []


def image_of():
    if not _image:
        _image.append(png_bytes())
    return _image[0]


def secure_tls(build, models, store, top):
    key, cert = os.path.join(top, "server.key"), os.path.join(top, "server.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    srv = TlsServer(build, models, "--enable-model-api", "--management-listen", "127.0.0.1:0",
                    "--model-store", store, "--certificate", cert, "--private-key", key,
                    "--quiet", labels=False)
    try:
        check(re.search(r"management API on https://127\.0\.0\.1:\d+", srv.text_log()),
              "the log names the management address https://")
        M = mgmt_port(srv)
        ctx = ssl.create_default_context(cafile=cert)
        c = http.client.HTTPSConnection("127.0.0.1", M, context=ctx, timeout=60)
        c.request("POST", "/models?url=two_class.pt&model_name=extra")
        r = c.getresponse()
        b = r.read()
        c.close()
        check(r.status == 200, "register over HTTPS (the server's certificate): 200 (%d %s)" %
              (r.status, b[:120]))
        r = subprocess.run(["curl", "-sS", "-m", "30", "--cacert", cert,
                            "https://127.0.0.1:%d/models" % M], capture_output=True, timeout=60)
        names = [m["modelName"] for m in json.loads(r.stdout or b"{}").get("models", [])]
        check(r.returncode == 0 and "extra" in names,
              "curl --cacert https://.../models lists extra (%s %s)" % (names, r.stderr[:100]))
        got = b""
        try:
            with socket.create_connection(("127.0.0.1", M), 10) as sock:
                sock.settimeout(10)
                sock.sendall(b"GET /models HTTP/1.1\r\nHost: x\r\n\r\n")
                got = sock.recv(200)
        except OSError:
            pass
        check(not got.startswith(b"HTTP/1.1 200"),
              "plain HTTP to the HTTPS management port: no answer over plain HTTP (%r)" % got[:40])
    finally:
        rc = srv.stop()
    check(rc == 0, "TLS: SIGTERM exit status %s" % rc)


def closed_soon(sock, within):
    """True when the server closes (EOF or reset) within `within` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except OSError:
        return False


def secure_limits(build, models, store):
    srv = Server(build, models, "--enable-model-api", "--management-listen", "127.0.0.1:0",
                 "--model-store", store, "--max-connections-per-client", "3",
                 "--header-timeout-s", "2", "--quiet", labels=False)
    held = []
    try:
        M = mgmt_port(srv)
        # Three half-open requests (headers never finished) from 127.0.0.1.
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", M), 10)
            sock.sendall(b"GET /models HTTP/1.1\r\nHost: x\r\n")
            held.append(sock)
        extra = socket.create_connection(("127.0.0.1", M), 10)
        extra.sendall(b"GET /models HTTP/1.1\r\nHost: x\r\n\r\n")
        check(closed_soon(extra, 30), "a 4th management connection from 127.0.0.1 (limit 3): "
              "closed without an answer")
        extra.close()
        # Another address is served meanwhile.
        c = http.client.HTTPConnection("127.0.0.1", M, timeout=30,
                                       source_address=("127.0.0.2", 0))
        c.request("GET", "/models")
        r = c.getresponse()
        r.read()
        c.close()
        check(r.status == 200, "127.0.0.2 is served beside them (%d)" % r.status)
        # The header deadline (2 s) ends the three.
        check(all(closed_soon(sock, 60) for sock in held),
              "the half-open management connections are closed by the header deadline")
        _, _, v = metrics(srv)
        refused = v.get('imgclass_connections_refused_per_client_total{listener="management"}')
        late = v.get('imgclass_connections_header_timeout_total{listener="management"}')
        check(refused == 1 and late == 3,
              "/metrics counts them for listener=\"management\": refused %s, header "
              "timeouts %s" % (refused, late))
        check(v.get('imgclass_connections_refused_per_client_total{listener="inference"}') == 0,
              "... and not for the inference listener")
    finally:
        for sock in held:
            sock.close()
        rc = srv.stop()
    check(rc == 0, "limits: SIGTERM exit status %s" % rc)


def cmd_secure(build, models):
    top, store = make_store(models)
    secure_tokens(build, models, store, top)
    secure_tls(build, models, store, top)
    secure_limits(build, models, store)
    finish()


def main():
    run_check(__doc__, "imgclass-serve-mgmt-test.",
              {"api": cmd_api, "hotswap": cmd_hotswap, "secure": cmd_secure})


if __name__ == "__main__":
    main()
