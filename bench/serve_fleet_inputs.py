"""What bench/serve_fleet_bench.py sends and serves with, made once per run:
the request bodies of each kind of request (one file per photo, listed for
bench/serve_post.lua), and a self-signed certificate for the HTTPS server."""
import base64
import json
import os
import struct
import subprocess

# Each kind: (what the section calls it, Content-Type).
KINDS = {
    "predictions": ("`POST /predictions/{m}`, the image as the body", "application/octet-stream"),
    "v2-json": ("v2 infer, BYTES [1] as base64 in JSON", "application/json"),
    "v2-binary": ("v2 infer, BYTES [1] with the binary-data extension",
                  "application/octet-stream"),
}


def _v2_json(image):
    # The protocol's plain form (what `requests` or curl send, the README's
    # example): no "outputs", so the answer is the FP32 [1, classes] scores.
    return json.dumps({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                                   "data": [base64.b64encode(image).decode()]}]}).encode()


def _v2_binary(image):
    """(body, JSON header length): the JSON, then the element as a 4-byte
    little-endian length and the image's bytes (tritonclient's default)."""
    header = json.dumps({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                                     "parameters": {"binary_data_size": 4 + len(image)}}]})
    header = header.encode()
    return header + struct.pack("<I", len(image)) + image, len(header)


def body_lists(tmp, files):
    """{kind: path of its body list}: for each kind of KINDS, one body per
    image of `files`, in the same order."""
    lists = {}
    for kind in KINDS:
        folder = os.path.join(tmp, "bodies-" + kind)
        os.makedirs(folder, exist_ok=True)
        lines = []
        for n, path in enumerate(files):
            if kind == "predictions":
                lines.append(os.path.abspath(path))
                continue
            with open(path, "rb") as f:
                image = f.read()
            out = os.path.join(folder, "%03d.body" % n)
            extra = ""
            if kind == "v2-json":
                body = _v2_json(image)
            else:
                body, header_len = _v2_binary(image)
                extra = "\tInference-Header-Content-Length: %d" % header_len
            with open(out, "wb") as f:
                f.write(body)
            lines.append(out + extra)
        lists[kind] = os.path.join(tmp, kind + ".txt")
        with open(lists[kind], "w") as f:
            f.write("\n".join(lines) + "\n")
    return lists


def first_request(kind, files):
    """(body, headers) of the first image's request of `kind`, for the
    checks before measuring."""
    with open(files[0], "rb") as f:
        image = f.read()
    headers = {"Content-Type": KINDS[kind][1]}
    if kind == "predictions":
        return image, headers
    if kind == "v2-json":
        return _v2_json(image), headers
    body, header_len = _v2_binary(image)
    headers["Inference-Header-Content-Length"] = str(header_len)
    return body, headers


def self_signed_certificate(tmp):
    """(certificate, key): RSA 2048, CN and subjectAltName 127.0.0.1, the
    key readable by its owner only (imgclass-serve refuses it otherwise)."""
    key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("openssl req failed (exit %d): %s" % (p.returncode, p.stderr[-1000:]))
    os.chmod(key, 0o600)
    return cert, key
