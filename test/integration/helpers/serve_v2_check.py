#!/usr/bin/env python3
"""Tests of imgclass-serve's Open Inference Protocol (KServe v2) REST API
(examples/serve/v2_api.c), all on 127.0.0.1, each bounded in time
(test/integration/serve_v2.sh runs them).

  serve_v2_check.py api BUILD MODELS     every v2 endpoint and error, JSON and
      binary bodies (requests, http.client, curl); a BYTES image's answer
      equals /predictions' and `imgclass classify`'s, an FP32 tensor's equals
      the library's (the Python binding's predict) on the same tensor;
      metrics count v2 requests; SIGTERM exits 0
  serve_v2_check.py ready BUILD MODELS   readiness: with a slow-loading model
      (a generated TorchScript model whose forward pass, run at load for the
      shape check and the warm-up, takes seconds), /v2/health/live answers
      200 while /v2/health/ready and /ping answer 503, until the model is
      warm; then 200; while draining at SIGTERM, 503 again
Exits 0 when every check passed, 1 on a failure.
"""
import base64
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_check import (PP, Server, check, classify_reference, finish,  # noqa: E402
                         make_images, metrics, ordered_pairs, raw_exchange, request,
                         run_check)
from sanitizer_report import report as sanitizer_report  # noqa: E402


def b64(data):
    return base64.b64encode(data).decode()


def v2_error(resp, code, what, part):
    """resp: (status, headers, body); the protocol's {"error": "..."} with `part` in it."""
    status, headers, body = resp
    try:
        j = json.loads(body)
    except ValueError:
        return check(False, "%s: want %d with a JSON body, got %d %r" % (what, code, status,
                                                                          body[:200]))
    ok = (status == code and list(j) == ["error"] and isinstance(j["error"], str) and
          part in j["error"] and
          headers.get("content-type", "").startswith("application/json"))
    return check(ok, "%s: %d {\"error\": %r}" % (what, code, j.get("error")) if ok else
                 "%s: want %d with '%s' in the error, got %d %r" % (what, code, part, status,
                                                                   body[:300]))


def post_json(port, path, obj, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return request(port, "POST", path, json.dumps(obj).encode(), h)


def post_binary(port, path, header_obj, binary, answer_binary=False):
    """A binary-data request: JSON, then the bytes; returns (status, headers,
    json dict or None, binary tail)."""
    hdr = json.dumps(header_obj).encode()
    st, h, body = request(port, "POST", path, hdr + binary,
                          {"Inference-Header-Content-Length": str(len(hdr)),
                           "Content-Type": "application/octet-stream"})
    n = int(h.get("inference-header-content-length", len(body)))
    try:
        j = json.loads(body[:n])
    except ValueError:
        j = None
    return st, h, j, body[n:]


def bytes_elements(blobs):
    """BYTES tensor binary data: each element's 4-byte little-endian length, then it."""
    return b"".join(struct.pack("<I", len(b)) + b for b in blobs)


def split_bytes_elements(data):
    out, at = [], 0
    while at < len(data):
        (n,) = struct.unpack_from("<I", data, at)
        out.append(data[at + 4:at + 4 + n])
        at += 4 + n
    return out


def parse_classes(strings):
    """"score:index:label" -> (label or index, score, index)."""
    out = []
    for s in strings:
        parts = s.split(":", 2)
        out.append((parts[2] if len(parts) == 3 else parts[1], float(parts[0]), int(parts[1])))
    return out


SANITIZED = os.environ.get("SANITIZED", "0") == "1"


def labels_of(models):
    return [l.split(" ", 1)[1] for l in
            open(os.path.join(models, "labels_synset.txt")).read().splitlines()]


def library_model(build, models):
    """The library itself through the Python binding (this build's, never
    one installed on the machine), preprocessing as the server's PP options
    (exact 8x8, no crop)."""
    os.environ["IMGCLASS_LIBRARY"] = os.path.abspath(os.path.join(build, "libimgclass.so"))
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "..", "..", "bindings", "python"))
    import imgclass
    return imgclass.Model(os.path.join(models, "tiny.pt"),
                          labels=os.path.join(models, "labels_synset.txt"),
                          preprocess={"resize": (8, 8), "crop": None})


# --------------------------------------------------------------------- api

def check_metadata(P):
    import requests
    base = "http://127.0.0.1:%d" % P
    r = requests.get(base + "/v2", timeout=30)
    j = r.json()
    check(r.status_code == 200 and j.get("name") == "imgclass" and
          re.fullmatch(r"\d+\.\d+\.\d+", j.get("version", "")) and
          j.get("extensions") == ["classification", "binary_tensor_data"],
          "GET /v2: %s" % j)
    st, _, b = request(P, "HEAD", "/v2")
    check(st == 200 and b == b"", "HEAD /v2: 200, no body")
    r = requests.get(base + "/v2/health/live", timeout=30)
    check(r.status_code == 200 and r.json() == {"live": True}, "GET /v2/health/live: 200")
    r = requests.get(base + "/v2/health/ready", timeout=30)
    check(r.status_code == 200 and r.json() == {"ready": True}, "GET /v2/health/ready: 200")
    want = {"name": "tiny", "versions": ["1.0"], "platform": "pytorch_torchscript",
            "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 3, 8, 8]},
                       {"name": "image", "datatype": "BYTES", "shape": [-1]}],
            "outputs": [{"name": "output", "datatype": "FP32", "shape": [-1, 5]}]}
    for path in ["/v2/models/tiny", "/v2/models/tiny/versions/1.0"]:
        r = requests.get(base + path, timeout=30)
        check(r.status_code == 200 and r.json() == want, "GET %s: the metadata" % path)
    for path in ["/v2/models/tiny/ready", "/v2/models/tiny/versions/1.0/ready"]:
        r = requests.get(base + path, timeout=30)
        check(r.status_code == 200 and r.json() == {"name": "tiny", "ready": True},
              "GET %s: 200" % path)
    v2_error(request(P, "GET", "/v2/models/nope"), 404, "GET /v2/models/nope",
             "unknown model 'nope'")
    v2_error(request(P, "GET", "/v2/models/nope/ready"), 404, "GET /v2/models/nope/ready",
             "unknown model 'nope'")
    v2_error(request(P, "GET", "/v2/models/tiny/versions/2.0"), 404,
             "GET /v2/models/tiny/versions/2.0", "has no version '2.0'")
    v2_error(request(P, "GET", "/v2/models/tiny/versions/2.0/ready"), 404,
             "GET .../versions/2.0/ready", "has no version '2.0'")
    v2_error(request(P, "GET", "/v2/repository/index"), 404, "GET /v2/repository/index",
             "no such endpoint")
    resp = request(P, "POST", "/v2/health/live", b"")
    v2_error(resp, 405, "POST /v2/health/live", "method not allowed")
    check(resp[1].get("allow") == "GET, HEAD", "405 names the methods: Allow: %s" %
          resp[1].get("allow"))
    resp = request(P, "GET", "/v2/models/tiny/infer")
    v2_error(resp, 405, "GET .../infer", "method not allowed")
    check(resp[1].get("allow") == "POST", "405 on infer: Allow: %s" % resp[1].get("allow"))
    # curl, as a shell user would
    r = subprocess.run(["curl", "-sS", "--max-time", "30", base + "/v2/models/tiny"],
                       capture_output=True, timeout=60)
    check(r.returncode == 0 and json.loads(r.stdout) == want, "curl GET /v2/models/tiny")


def check_infer_images(P, build, models, paths, ref, tmp):
    import requests
    base = "http://127.0.0.1:%d" % P
    blobs = [open(p, "rb").read() for p in paths]
    n = len(blobs)
    # /predictions, the TorchServe API, for each image
    pred = []
    for b in blobs:
        st, _, body = request(P, "POST", "/predictions/tiny", b)
        pred.append(ordered_pairs(body))
    # all the images in one JSON request, scores out
    req = {"id": "batch-1", "inputs": [{"name": "image", "datatype": "BYTES", "shape": [n],
                                        "data": [b64(b) for b in blobs]}]}
    r = requests.post(base + "/v2/models/tiny/infer", json=req, timeout=60)
    j = r.json()
    out = j["outputs"][0] if r.status_code == 200 else {}
    check(r.status_code == 200 and j.get("model_name") == "tiny" and
          j.get("model_version") == "1.0" and j.get("id") == "batch-1" and
          out.get("name") == "output" and out.get("datatype") == "FP32" and
          out.get("shape") == [n, 5] and len(out.get("data", [])) == n * 5,
          "infer BYTES [%d] (JSON, base64): FP32 [%d, 5], id echoed" % (n, n))
    scores = np.array(out.get("data", [0.0] * n * 5), dtype=np.float64).reshape(n, 5)
    labels = labels_of(models)
    same_pred = same_ref = True
    for i, p in enumerate(paths):
        # /predictions: the top 5, labelled; the v2 scores in that order
        ours = sorted([(labels[c], scores[i, c]) for c in range(5)], key=lambda t: -t[1])
        same_pred &= [k for k, _ in ours] == [k for k, _ in pred[i]] and all(
            abs(a[1] - b[1]) == 0 for a, b in zip(ours, pred[i]))
        same_ref &= all(abs(float(np.float32(scores[i, labels.index(k)])) - v) <= 1e-6
                        for k, v in ref[p])
    check(same_pred, "each image's v2 scores equal /predictions/tiny's for it")
    check(same_ref, "each image's v2 scores equal imgclass classify's (1e-6)")

    # the classification extension, K = 3
    req = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [n],
                       "data": [b64(b) for b in blobs]}],
           "outputs": [{"name": "output", "parameters": {"classification": 3}}]}
    r = requests.post(base + "/v2/models/tiny/infer", json=req, timeout=60)
    j = r.json()
    out = j["outputs"][0] if r.status_code == 200 else {}
    check(r.status_code == 200 and out.get("datatype") == "BYTES" and out.get("shape") == [n, 3]
          and "id" not in j, "classification 3: BYTES [%d, 3], no id when none was sent" % n)
    cls = parse_classes(out.get("data", []))
    ok = len(cls) == n * 3
    for i, p in enumerate(paths):
        row = cls[3 * i:3 * i + 3]
        ok = ok and [(k, v) for k, v, _ in row] == [tuple(t) for t in pred[i][:3]]
        ok = ok and all(labels[idx] == k for k, _, idx in row)
        ok = ok and all(abs(a[1] - b[1]) <= 1e-6 for a, b in zip(row, ref[p][:3]))
    check(ok, "classification strings 'score:index:label' equal /predictions' top 3 and "
              "imgclass classify's")
    # the same without labels: "score:index"
    r = requests.post(base + "/v2/models/plain/infer", json=req, timeout=60)
    data = r.json()["outputs"][0]["data"] if r.status_code == 200 else []
    check(len(data) == n * 3 and all(re.fullmatch(r"[0-9.e-]+:\d", s) for s in data),
          "classification without labels: 'score:index' (%s)" % data[:2])

    # binary data in and out: BYTES elements raw, scores as little-endian floats
    hdr = {"id": "bin", "inputs": [{"name": "image", "datatype": "BYTES", "shape": [n],
                                    "parameters": {"binary_data_size":
                                                   len(bytes_elements(blobs))}}],
           "outputs": [{"name": "output", "parameters": {"binary_data": True}}]}
    st, h, j, tail = post_binary(P, "/v2/models/tiny/infer", hdr, bytes_elements(blobs))
    out = j["outputs"][0] if j else {}
    got = np.frombuffer(tail, dtype="<f4") if len(tail) == n * 20 else np.zeros(n * 5)
    check(st == 200 and h.get("content-type") == "application/octet-stream" and
          j.get("id") == "bin" and out.get("shape") == [n, 5] and "data" not in out and
          out.get("parameters") == {"binary_data_size": n * 20} and len(tail) == n * 20,
          "binary BYTES in, binary FP32 out: Inference-Header-Content-Length splits the body")
    check(np.array_equal(got.astype(np.float64).reshape(n, 5),
                         np.float32(scores).astype(np.float64)),
          "binary scores equal the JSON ones bit for bit")
    # binary classification out, for a JSON request (binary_data_output)
    req = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                       "data": [b64(blobs[0])]}],
           "outputs": [{"name": "output", "parameters": {"classification": 2}}],
           "parameters": {"binary_data_output": True}}
    st, h, body = post_json(P, "/v2/models/tiny/infer", req)
    hl = int(h.get("inference-header-content-length", "0"))
    elems = split_bytes_elements(body[hl:]) if st == 200 else []
    j = json.loads(body[:hl]) if st == 200 else {}
    check(st == 200 and [e.decode() for e in elems] ==
          ["%s:%d:%s" % (repr_float(v), idx, k) for k, v, idx in cls[:2]] and
          j["outputs"][0]["parameters"]["binary_data_size"] == len(body) - hl,
          "binary classification: length-prefixed 'score:index:label' strings %s" % elems)

    # curl with a JSON file
    f = os.path.join(tmp, "req.json")
    with open(f, "w") as fh:
        json.dump({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                               "data": [b64(blobs[2])]}]}, fh)
    r = subprocess.run(["curl", "-sS", "--max-time", "60", "-H",
                        "Content-Type: application/json", "--data-binary", "@" + f,
                        base + "/v2/models/tiny/infer"], capture_output=True, timeout=90)
    data = json.loads(r.stdout)["outputs"][0]["data"] if r.returncode == 0 else []
    check(len(data) == 5 and np.allclose(data, scores[2], atol=0, rtol=0),
          "curl --data-binary @request.json: the same scores as in the batch")
    return blobs, scores


def repr_float(v):
    return "%.9g" % v


def check_infer_tensor(P, build, models, blobs, scores):
    import requests
    base = "http://127.0.0.1:%d" % P
    # The sanitized library cannot load into a plain interpreter: then the
    # comparisons with the binding are left to the plain phase, and torch's
    # answer (tiny_probs.f32) is the reference.
    lib = None if SANITIZED else library_model(build, models)
    x = np.fromfile(os.path.join(models, "tiny_input.f32"), dtype=np.float32).reshape(4, 3, 8, 8)
    torch_ref = np.fromfile(os.path.join(models, "tiny_probs.f32"), dtype=np.float32)
    req = {"id": "t", "inputs": [{"name": "input", "datatype": "FP32", "shape": [4, 3, 8, 8],
                                  "data": x.ravel().tolist()}]}
    r = requests.post(base + "/v2/models/tiny/infer", json=req, timeout=60)
    out = r.json()["outputs"][0] if r.status_code == 200 else {}
    got = np.array(out.get("data", [0] * 20), dtype=np.float32).reshape(4, 5)
    check(r.status_code == 200 and out.get("shape") == [4, 5] and out.get("datatype") == "FP32",
          "infer FP32 [4, 3, 8, 8] (JSON): FP32 [4, 5]")
    if lib is not None:
        want = lib.predict(x)
        check(np.abs(got - want).max() <= 1e-6,
              "FP32 answer equals the library's predict on the same tensor (max diff %g)" %
              np.abs(got - want).max())
    else:
        print("sanitized run: the comparison with the binding's predict runs in the plain phase")
    check(np.abs(got.ravel() - torch_ref).max() <= 1e-5,
          "and torch's (tiny_probs.f32, max diff %g)" % np.abs(got.ravel() - torch_ref).max())
    # nested data, the tensor as the client holds it
    req["inputs"][0]["data"] = x.tolist()
    r = requests.post(base + "/v2/models/tiny/infer", json=req, timeout=60)
    got2 = np.array(r.json()["outputs"][0]["data"], dtype=np.float32).reshape(4, 5) \
        if r.status_code == 200 else None
    check(got2 is not None and np.array_equal(got2, got), "nested FP32 data: the same answer")
    # binary in and out
    hdr = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [4, 3, 8, 8],
                       "parameters": {"binary_data_size": x.nbytes}}],
           "outputs": [{"name": "output", "parameters": {"binary_data": True}}]}
    st, h, j, tail = post_binary(P, "/v2/models/tiny/infer", hdr, x.astype("<f4").tobytes())
    got3 = np.frombuffer(tail, dtype="<f4").reshape(4, 5) if len(tail) == 80 else None
    check(st == 200 and got3 is not None and np.array_equal(got3, got),
          "binary FP32 in and out: the same answer, bit for bit")
    # classification on a tensor: the best class of each row
    req = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [4, 3, 8, 8],
                       "data": x.ravel().tolist()}],
           "outputs": [{"name": "output", "parameters": {"classification": 1}}]}
    r = requests.post(base + "/v2/models/tiny/infer", json=req, timeout=60)
    out = r.json()["outputs"][0] if r.status_code == 200 else {}
    check(out.get("shape") == [4, 1] and len(out.get("data", [])) == 4 and
          all(int(s.split(":")[1]) == int(np.argmax(got[i])) and
              float(s.split(":")[0]) == float("%.9g" % got[i].max())
              for i, s in enumerate(out["data"])),
          "classification on an FP32 tensor: the best class of each row (%s)" % out.get("data"))
    # an image preprocessed by the library, sent as FP32, answers as the image does
    if lib is None:
        return
    t = lib.preprocess([blobs[0], blobs[1]])
    req = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [2, 3, 8, 8],
                       "data": t.ravel().tolist()}]}
    r = requests.post(base + "/v2/models/tiny/infer", json=req, timeout=60)
    got4 = np.array(r.json()["outputs"][0]["data"]).reshape(2, 5) if r.status_code == 200 \
        else np.zeros((2, 5))
    check(np.abs(got4 - scores[:2]).max() <= 1e-6,
          "the preprocessed tensor of two images as FP32 answers as the images as BYTES")


def check_errors(P, blobs, limit):
    base_req = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                            "data": [b64(blobs[0])]}]}
    path = "/v2/models/tiny/infer"
    hj = {"Content-Type": "application/json"}
    v2_error(request(P, "POST", path, b'{"inputs": [', hj), 400, "truncated JSON",
             "invalid JSON")
    v2_error(request(P, "POST", path, b"", hj), 400, "empty body", "empty body")
    v2_error(post_json(P, "/v2/models/nope/infer", base_req), 404, "infer on an unknown model",
             "unknown model 'nope'")
    v2_error(post_json(P, "/v2/models/tiny/versions/9/infer", base_req), 404,
             "infer on an unknown version", "has no version '9'")
    bad = json.loads(json.dumps(base_req))
    bad["inputs"][0]["datatype"] = "INT32"
    v2_error(post_json(P, path, bad), 400, "datatype INT32", "datatype 'INT32' is not accepted")
    bad = json.loads(json.dumps(base_req))
    bad["inputs"][0]["shape"] = [2]
    v2_error(post_json(P, path, bad), 400, "shape [2] with one element", "got fewer")
    bad = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 16, 16],
                       "data": [0.0] * 768}]}
    v2_error(post_json(P, path, bad), 400, "FP32 of the wrong size",
             "shape [1,3,16,16] does not fit FP32 [-1, 3, 8, 8]")
    bad = json.loads(json.dumps(base_req))
    bad["inputs"][0]["data"] = ["not base64!"]
    v2_error(post_json(P, path, bad), 400, "bad base64", "element 0 is not valid base64")
    # an image that does not decode: half a PNG, and text
    bad = json.loads(json.dumps(base_req))
    bad["inputs"][0]["shape"] = [3]
    bad["inputs"][0]["data"] = [b64(blobs[0]), b64(blobs[0][: len(blobs[0]) // 2]),
                                b64(b"hello, world")]
    v2_error(post_json(P, path, bad), 400, "half a PNG among good images",
             "input 'image' element 1: cannot classify the image:")
    bad["inputs"][0]["data"] = [b64(blobs[0]), b64(blobs[1]), b64(b"hello, world")]
    v2_error(post_json(P, path, bad), 400, "text instead of an image",
             "element 2: cannot classify the image: unsupported format")
    bad = {"inputs": base_req["inputs"], "outputs": [{"name": "probabilities"}]}
    v2_error(post_json(P, path, bad), 400, "unknown output", "unknown output 'probabilities'")
    # binary sizes that do not add up
    hdr = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                       "parameters": {"binary_data_size": 100}}]}
    st, h, j, _ = post_binary(P, path, hdr, bytes_elements([blobs[0]]))
    v2_error((st, h, json.dumps(j).encode()), 400, "binary_data_size not the bytes sent",
             "binary")
    v2_error(request(P, "POST", path, json.dumps(base_req).encode(),
                     {"Inference-Header-Content-Length": "x12"}), 400,
             "Inference-Header-Content-Length not a number", "Inference-Header-Content-Length")
    v2_error(request(P, "POST", path, json.dumps(base_req).encode(),
                     {"Inference-Header-Content-Length": "99999"}), 400,
             "Inference-Header-Content-Length past the body", "more than the body")
    # over --max-request-bytes: 413 from Content-Length, the body never read
    raw = raw_exchange(P, b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % (path.encode(), limit + 1))
    head, _, body = raw.partition(b"\r\n\r\n")
    st = int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else None
    hdrs = {k.strip().lower(): v.strip() for k, _, v in
            (l.decode().partition(":") for l in head.split(b"\r\n")[1:])}
    v2_error((st, hdrs, body), 413, "Content-Length over the limit, no body sent",
             "over the limit of %d bytes" % limit)


def cmd_api(build, models):
    tmp = tempfile.mkdtemp(prefix="imgclass-serve-v2.")
    paths = make_images(tmp)
    ref = classify_reference(build, models, paths)
    limit = 1000000
    srv = Server(build, models, "--max-request-bytes", str(limit), "--quiet",
                 "--max-batch-delay-ms", "1000")
    P = srv.port
    try:
        check_metadata(P)
        _, _, m0 = metrics(srv)
        blobs, scores = check_infer_images(P, build, models, paths, ref, tmp)
        check_infer_tensor(P, build, models, blobs, scores)
        check_errors(P, blobs, limit)

        # metrics: v2 requests counted per model, FP32 images with the rest
        key = 'imgclass_v2_inference_requests_total{model_name="plain",model_version="1.0"}'
        served = 'ts_inference_requests_total{model_name="plain",model_version="1.0"}'
        full = 'imgclass_batches_total{model_name="plain",model_version="1.0",cut="full"}'
        _, _, m1 = metrics(srv)
        x = np.zeros((3, 3, 8, 8), dtype=np.float32)
        post_json(P, "/v2/models/plain/infer",
                  {"inputs": [{"name": "input", "datatype": "FP32", "shape": [3, 3, 8, 8],
                               "data": x.ravel().tolist()}]})
        st, _, _ = post_json(P, "/v2/models/plain/infer",
                             {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [8],
                                          "data": [b64(b) for b in blobs[:8]]}]})
        post_json(P, "/v2/models/plain/infer", {"inputs": []})  # a 400 still counts
        _, text, m2 = metrics(srv)
        check(m2.get(key, 0) - m1.get(key, 0) == 3,
              "imgclass_v2_inference_requests_total counts the 3 v2 requests: %s" %
              (m2.get(key, 0) - m1.get(key, 0)))
        check(m2.get(served, 0) - m1.get(served, 0) == 11,
              "ts_inference_requests_total counts 3 tensor + 8 image inferences: %s" %
              (m2.get(served, 0) - m1.get(served, 0)))
        # 8 images in one request, --batch 8 and a 1 s delay: one full batch
        # of the pipeline (the images were batched there, not one by one).
        check(st == 200 and m2.get(full, 0) - m1.get(full, 0) == 1,
              "the 8 images of one request ran as one full batch of the pipeline (%s)" %
              (m2.get(full, 0) - m1.get(full, 0)))
        check(m2.get('imgclass_http_responses_total{code="400"}', 0) >
              m0.get('imgclass_http_responses_total{code="400"}', 0),
              "v2 errors are counted among the HTTP responses")

        # Concurrency: 8 clients, each 6 requests alternating v2 (BYTES and
        # FP32) and /predictions, all through the same pipeline: every
        # answer equals the one-at-a-time answer for its image.
        lib_t = np.fromfile(os.path.join(models, "tiny_input.f32"),
                            dtype=np.float32).reshape(4, 3, 8, 8)
        st, _, b = post_json(P, "/v2/models/tiny/infer",
                             {"inputs": [{"name": "input", "datatype": "FP32",
                                          "shape": [1, 3, 8, 8],
                                          "data": lib_t[:1].ravel().tolist()}]})
        tensor_ref = json.loads(b)["outputs"][0]["data"] if st == 200 else None
        wrong = []

        def client(c):
            for k in range(6):
                i = (c + k) % len(blobs)
                if k % 3 == 0:
                    st, _, b = request(P, "POST", "/predictions/tiny?topk=5", blobs[i])
                    got = dict(ordered_pairs(b)) if st == 200 else {}
                    want = {labels_of(models)[j]: scores[i, j] for j in range(5)}
                    ok = st == 200 and got == want
                elif k % 3 == 1:
                    st, _, b = post_json(P, "/v2/models/tiny/infer",
                                         {"inputs": [{"name": "image", "datatype": "BYTES",
                                                      "shape": [1], "data": [b64(blobs[i])]}]})
                    ok = st == 200 and json.loads(b)["outputs"][0]["data"] == list(scores[i])
                else:
                    st, _, b = post_json(P, "/v2/models/tiny/infer",
                                         {"inputs": [{"name": "input", "datatype": "FP32",
                                                      "shape": [1, 3, 8, 8],
                                                      "data": lib_t[:1].ravel().tolist()}]})
                    ok = st == 200 and json.loads(b)["outputs"][0]["data"] == tensor_ref
                if not ok:
                    wrong.append((c, k, st, b[:200]))
        threads = [threading.Thread(target=client, args=(c,)) for c in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        check(tensor_ref is not None and not wrong and not any(t.is_alive() for t in threads),
              "8 concurrent clients x 6 requests (v2 BYTES, v2 FP32, /predictions): every "
              "answer equal to the one-at-a-time answer %s" % wrong[:3])
    finally:
        rc = srv.stop()
    check(rc == 0, "SIGTERM: exit status %s" % rc)

    # A full queue: room for 2 images, and a batch held for 5 s, so the third
    # of 4 images finds no room. The request answers 503 (after the images it
    # had queued are done), and the next one, alone, gets through.
    srv = Server(build, models, "--queue", "2", "--max-batch-delay-ms", "5000", "--quiet")
    try:
        blobs = [open(p, "rb").read() for p in paths[:4]]
        req = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [4],
                           "data": [b64(b) for b in blobs]}]}
        v2_error(post_json(srv.port, "/v2/models/tiny/infer", req), 503,
                 "4 images for a queue of 2", "the queue is full")
        req["inputs"][0]["shape"] = [1]
        req["inputs"][0]["data"] = req["inputs"][0]["data"][:1]
        st, _, body = post_json(srv.port, "/v2/models/tiny/infer", req)
        check(st == 200, "then 1 image: 200 (%d)" % st)
    finally:
        rc = srv.stop()
    check(rc == 0, "SIGTERM: exit status %s" % rc)
    finish()


# ------------------------------------------------------------------- ready

SLOW_MODEL = r'''
import sys, torch
class Slow(torch.nn.Module):
    """3x8x8 -> 5 classes, through a loop of matrix products: loading runs
    the forward pass (shape check and warm-up), so it loads slowly."""
    def __init__(self, iters: int):
        super().__init__()
        self.iters = iters
        torch.manual_seed(0)
        self.w0 = torch.nn.Parameter(torch.randn(192, 256) * 0.05)
        self.w = torch.nn.Parameter(torch.randn(256, 256) * 0.05)
        self.out = torch.nn.Linear(256, 5)
    def forward(self, x):
        y = x.flatten(1) @ self.w0
        for _ in range(self.iters):
            y = torch.tanh(y @ self.w)
        return self.out(y)
torch.jit.script(Slow(int(sys.argv[2])).eval()).save(sys.argv[1])
'''


def get(port, path, timeout=10):
    try:
        st, _, body = request(port, "GET", path, timeout=timeout)
        return st, body
    except OSError as e:
        return None, str(e).encode()


def cmd_ready(build, models):
    tmp = tempfile.mkdtemp(prefix="imgclass-serve-ready.")
    slow = os.path.join(tmp, "slow.pt")
    script = os.path.join(tmp, "slow_model.py")  # TorchScript reads the source
    with open(script, "w") as f:
        f.write(SLOW_MODEL)
    subprocess.run([sys.executable, script, slow, "20000"], check=True, timeout=120)
    cmd = [os.path.join(build, "imgclass-serve"), "--model", "slow=%s" % slow,
           "--model", "tiny=%s/tiny.pt" % models, "--listen", "127.0.0.1:0",
           "--metrics-listen", "127.0.0.1:0", "--timeout-s", "60"] + PP
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = []
    seen = {"port": None, "listening": threading.Event()}
    port_known = threading.Event()

    def drain():
        for line in proc.stderr:
            log.append(line)
            m = re.search(rb"accepting connections on http://127\.0\.0\.1:(\d+)", line)
            if m:
                seen["port"] = int(m.group(1))
                port_known.set()
            if b"listening on http://" in line:
                seen["listening"].set()
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        if not port_known.wait(60):
            check(False, "imgclass-serve printed 'accepting connections on' (log: %s)" %
                  b"".join(log).decode(errors="replace"))
            return
        P = seen["port"]
        # While the models load: live, not ready. Poll until ready (bounded).
        loading = []
        deadline = time.time() + 240
        while time.time() < deadline:
            ready_before = seen["listening"].is_set()
            st_ready, _ = get(P, "/v2/health/ready")
            if st_ready == 200:
                break
            st_live, _ = get(P, "/v2/health/live")
            st_ping, _ = get(P, "/ping")
            st_model, model_body = get(P, "/v2/models/slow/ready")
            st_pred = request(P, "POST", "/predictions/tiny", b"x")[0]
            # The models may become ready during the round (a loaded machine
            # stretches it): only a round that ends not ready again was all
            # while loading.
            if get(P, "/v2/health/ready")[0] != 503:
                break
            loading.append((ready_before, st_ready, st_live, st_ping, st_model, st_pred))
            time.sleep(0.05)
        check(loading != [], "polled while loading: %d rounds before ready" % len(loading))
        check(all(r[1] == 503 for r in loading),
              "/v2/health/ready answered 503 until the models were warm: %s" %
              sorted(set(r[1] for r in loading)))
        check(all(r[2] == 200 for r in loading),
              "/v2/health/live answered 200 all the while: %s" % sorted(set(r[2] for r in loading)))
        check(all(r[3] == 503 for r in loading),
              "/ping answered 503 while loading: %s" % sorted(set(r[3] for r in loading)))
        check(all(r[4] == 503 and r[5] == 503 for r in loading),
              "a model's /ready and /predictions answered 503 while loading")
        check(not any(r[0] for r in loading),
              "no 503 after the server said it was listening (models loaded)")
        st, body = get(P, "/v2/health/ready")
        check(st == 200 and json.loads(body) == {"ready": True}, "then /v2/health/ready: 200")
        check(seen["listening"].wait(10), "and the server printed 'listening on' (loaded)")
        st, _ = get(P, "/ping")
        check(st == 200, "and /ping: 200")
        st, body = get(P, "/v2/models/slow/ready")
        check(st == 200, "and /v2/models/slow/ready: 200")

        # Draining: a request held open (its body half sent) keeps the server
        # draining after SIGTERM. Two more connections, accepted before it
        # (their headers not yet ended), then end their requests: 503.
        # (The listening socket is closed at SIGTERM; a connection is
        # accepted in the order it was made, so once a later one has been
        # answered, these have been accepted.)
        held = socket.create_connection(("127.0.0.1", P), timeout=30)
        held.sendall(b"POST /predictions/tiny HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 10\r\n\r\nhalf")
        waiting = {}
        for path in ["/v2/health/ready", "/ping"]:
            c = socket.create_connection(("127.0.0.1", P), timeout=30)
            c.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n")
            waiting[path] = c
        st, _ = get(P, "/v2/health/ready")
        check(st == 200, "ready before SIGTERM")
        proc.send_signal(signal.SIGTERM)
        deadline = time.time() + 30
        while time.time() < deadline and not any(b"SIGTERM" in l for l in log):
            time.sleep(0.05)
        for path, c in waiting.items():
            c.sendall(b"\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = c.recv(4096)
                if not chunk:
                    break
                answer += chunk
            # The rest of the body, by its Content-Length.
            head, _, body = answer.partition(b"\r\n\r\n")
            m = re.search(rb"(?i)content-length: *(\d+)", head)
            while m and len(body) < int(m.group(1)):
                chunk = c.recv(4096)
                if not chunk:
                    break
                body += chunk
            c.close()
            # each API's own error shape
            shape = b'{"error": ' if path.startswith("/v2") else b'"ServiceUnavailableException"'
            check(head.startswith(b"HTTP/1.1 503") and shape in body,
                  "while draining: %s answers 503 %r" % (path, body[:80]))
        held.sendall(b"more!!")  # the held request ends; the drain can finish
        held.settimeout(30)
        try:
            held.recv(4096)
        except OSError:
            pass
        held.close()
        rc = proc.wait(60)
        check(rc == 0, "SIGTERM: exit status %s" % rc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
        rep = sanitizer_report(b"".join(log))
        if rep:
            check(False, "imgclass-serve's log holds a sanitizer report:\n" + rep)
    finish()


def main():
    run_check(__doc__, "imgclass-serve-v2-test.",
              {"api": cmd_api, "ready": cmd_ready})


if __name__ == "__main__":
    main()
