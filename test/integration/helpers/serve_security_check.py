#!/usr/bin/env python3
"""imgclass-serve's tokens, TLS and abuse limits, on loopback only, each
part bounded in time (test/integration/serve_security.sh runs it).

  serve_security_check.py BUILD MODELS

Exits 0 when every check passed, 1 on a failure.
"""
import atexit
import http.client
import json
import os
import re
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from PIL import Image

import serve_check
from serve_check import PP, Server, check, metrics, request

INF, MGMT, API = "inf-Tok3n_A", "mgmt-Tok3n_B", "api-Tok3n_C"


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def png(folder):
    p = os.path.join(folder, "red.png")
    Image.new("RGB", (8, 8), (200, 10, 10)).save(p)
    return open(p, "rb").read()


def refused_at_start(build, models, args, want, what):
    """The server exits 1 at once, its message naming what is wrong."""
    cmd = [os.path.join(build, "imgclass-serve"), "--model", "tiny=%s/tiny.pt" % models,
           "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"] + PP + args
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        err, rc = p.stderr.decode(errors="replace"), p.returncode
    except subprocess.TimeoutExpired:
        err, rc = "(still running after 120 s)", None
    check(rc == 1 and all(w in err for w in want),
          "%s: exit 1 naming %s (exit %s: %s)" % (what, want, rc, err.strip()[-300:]))


# ------------------------------------------------------------------ tokens

def part_tokens(build, models, tmp, image):
    # TorchServe's key file: each scope its own key.
    keyfile = write(os.path.join(tmp, "key_file.json"), json.dumps(
        {"management": {"key": MGMT, "expiration time": "2024-02-16T21:12:24.801167Z"},
         "inference": {"key": INF, "expiration time": "2024-02-16T21:12:24.801148Z"},
         "API": {"key": API}}, indent=2))
    srv = Server(build, models, "--token-file", keyfile)
    P = srv.port
    try:
        bearer = lambda t: {"Authorization": "Bearer " + t}
        for path in ("/ping", "/"):
            st, _, body = request(P, "GET", path)
            check(st == 200, "tokens on: GET %s stays open (load balancers, the page): %d" %
                  (path, st))
        st, _, body = request(P, "GET", "/")
        check(b'id="token"' in body, "the page has a token field")
        st, _, body = request(P, "OPTIONS", "/")
        check(st == 401, "OPTIONS / (the API description, which names the models) needs the "
                         "token: %d" % st)
        st, _, body = request(P, "OPTIONS", "/", headers={"Authorization": "Bearer " + INF})
        check(st == 200, "OPTIONS / with the token: %d" % st)
        cases = [("no header", {}, "Bearer"),
                 ("wrong token", bearer("not-the-token"), 'Bearer error="invalid_token"'),
                 ("a prefix of the token", bearer(INF[:-1]), 'Bearer error="invalid_token"'),
                 ("the management token", bearer(MGMT), 'Bearer error="invalid_token"'),
                 ("the key file's API key", bearer(API), 'Bearer error="invalid_token"'),
                 ("Basic scheme", {"Authorization": "Basic " + INF}, "Bearer")]
        for what, h, challenge in cases:
            for method, path, body in (("POST", "/predictions/tiny", image),
                                       ("GET", "/models", None)):
                st, hdr, raw = request(P, method, path, body=body, headers=h)
                try:
                    j = json.loads(raw)
                except ValueError:
                    j = {}
                check(st == 401 and isinstance(j.get("error"), str) and j.get("code") == 401 and
                      hdr.get("www-authenticate") == challenge and
                      hdr.get("content-type", "").startswith("application/json"),
                      "%s %s with %s: 401, JSON error, WWW-Authenticate %s (%d %s %r)" %
                      (method, path, what, challenge, st, hdr.get("www-authenticate"),
                       raw[:120]))
        st, _, raw = request(P, "POST", "/predictions/tiny", body=image, headers=bearer(INF))
        ok = st == 200 and len(json.loads(raw)) == 5
        check(ok, "POST /predictions/tiny with the inference token: 200, 5 classes (%d)" % st)
        st, _, raw = request(P, "GET", "/models", headers={"authorization": "bearer  " + INF})
        check(st == 200 and "models" in json.loads(raw),
              "GET /models with the inference token (scheme in lower case): 200 (%d)" % st)
        # curl, as the README shows it
        r = subprocess.run(["curl", "-sS", "-m", "30", "-H", "Authorization: Bearer " + INF,
                            "-T", os.path.join(tmp, "red.png"),
                            "http://127.0.0.1:%d/predictions/tiny" % P],
                           capture_output=True, timeout=60)
        check(r.returncode == 0 and len(json.loads(r.stdout or b"{}")) == 5,
              "curl -H 'Authorization: Bearer ...' -T image: a prediction (%s)" % r.stdout[:80])
        st, _, _ = request(P, "GET", "/ping")
        check(st == 200, "served on after the refusals")
        _, _, v = metrics(srv)
        n401 = v.get('imgclass_http_responses_total{code="401"}', 0)
        check(n401 == 2 * len(cases) + 1, "/metrics counts the %d answers 401: %s" %
              (2 * len(cases) + 1, n401))
    finally:
        rc = srv.stop()
    check(rc == 0, "tokens: SIGTERM exit status %s" % rc)
    log = srv.text_log()
    check(INF not in log and MGMT not in log, "no token appears in the log")

    # One token on one line: both scopes.
    plain = write(os.path.join(tmp, "token"), "plain-Tok3n\n")
    srv = Server(build, models, "--token-file", plain, "--quiet")
    try:
        st, _, _ = request(srv.port, "POST", "/predictions/tiny", body=image,
                           headers={"Authorization": "Bearer plain-Tok3n"})
        check(st == 200, "a plain token file: its token is accepted (%d)" % st)
        st, _, _ = request(srv.port, "POST", "/predictions/tiny", body=image,
                           headers={"Authorization": "Bearer plain-Tok3n\t"})
        check(st == 200, "trailing blank after the token ignored (%d)" % st)
        st, _, _ = request(srv.port, "POST", "/predictions/tiny", body=image,
                           headers={"Authorization": "Bearer plain-Tok3nx"})
        check(st == 401, "a plain token file: a longer token is refused (%d)" % st)
    finally:
        rc = srv.stop()
    check(rc == 0, "plain token: SIGTERM exit status %s" % rc)

    world = write(os.path.join(tmp, "world"), "tok\n", 0o644)
    refused_at_start(build, models, ["--token-file", world], [world, "every user"],
                     "a world-readable token file")
    empty = write(os.path.join(tmp, "empty"), "")
    refused_at_start(build, models, ["--token-file", empty], [empty, "empty"],
                     "an empty token file")
    missing = os.path.join(tmp, "missing")
    refused_at_start(build, models, ["--token-file", missing], [missing, "No such file"],
                     "a missing token file")
    half = write(os.path.join(tmp, "half.json"), '{"inference": {"key": "a"}}')
    refused_at_start(build, models, ["--token-file", half], [half, '"management"'],
                     "a key file without the management key")


# ------------------------------------------------------------------ TLS

class TlsServer(Server):
    PORTS = re.compile(rb"listening on https://127\.0\.0\.1:(\d+), metrics on "
                       rb"http://127\.0\.0\.1:(\d+)/metrics")


def openssl_cert(tmp, name):
    key, cert = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return cert, key


def part_tls(build, models, tmp, image):
    cert, key = openssl_cert(tmp, "server")
    srv = TlsServer(build, models, "--certificate", cert, "--private-key", key)
    P = srv.port
    img = os.path.join(tmp, "red.png")
    curl = ["curl", "-sS", "-m", "30", "--cacert", cert]
    try:
        r = subprocess.run(curl + ["-T", img, "https://127.0.0.1:%d/predictions/tiny" % P],
                           capture_output=True, timeout=60)
        ok = r.returncode == 0 and len(json.loads(r.stdout or b"{}")) == 5
        check(ok, "curl --cacert: a prediction over HTTPS (%s %s)" % (r.stdout[:80], r.stderr))
        r = subprocess.run(["curl", "-sS", "-m", "30", "https://127.0.0.1:%d/ping" % P],
                           capture_output=True, timeout=60)
        check(r.returncode != 0, "curl without --cacert refuses the self-signed certificate")
        # Plain HTTP to the TLS port: refused (no HTTP answer), cleanly.
        got = serve_check.raw_exchange(P, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", timeout=10)
        check(b"Healthy" not in got and not got.startswith(b"HTTP/1.1 200"),
              "plain HTTP to the HTTPS port: no answer over plain HTTP (%r)" % got[:40])
        r = subprocess.run(["curl", "-sS", "-m", "10", "http://127.0.0.1:%d/ping" % P],
                           capture_output=True, timeout=60)
        check(r.returncode != 0, "curl http:// to the HTTPS port fails (exit %d)" % r.returncode)
        # Python's ssl, keep-alive: the server still serves after the refusals.
        ctx = ssl.create_default_context(cafile=cert)
        c = http.client.HTTPSConnection("127.0.0.1", P, context=ctx, timeout=30)
        for i in range(3):
            c.request("POST", "/predictions/tiny", body=image)
            resp = c.getresponse()
            body = resp.read()
            check(resp.status == 200 and len(json.loads(body)) == 5,
                  "HTTPS keep-alive request %d after the plain-HTTP attempts: 200" % (i + 1))
        c.close()
        check(srv.proc.poll() is None, "the server is still running")
    finally:
        rc = srv.stop()
    check(rc == 0, "TLS: SIGTERM exit status %s" % rc)

    garbled = write(os.path.join(tmp, "garbled.pem"), "-----BEGIN CERTIFICATE-----\nnot base64"
                    "\n-----END CERTIFICATE-----\n", 0o644)
    refused_at_start(build, models, ["--certificate", garbled, "--private-key", key],
                     [garbled, "not a PEM certificate"], "a garbled certificate")
    refused_at_start(build, models, ["--certificate", key + ".nope", "--private-key", key],
                     [key + ".nope", "No such file"], "a missing certificate")
    cert_copy = write(os.path.join(tmp, "cert-copy.pem"), open(cert).read())
    refused_at_start(build, models, ["--certificate", cert, "--private-key", cert_copy],
                     [cert_copy, "not an unencrypted PEM private key"],
                     "a certificate given as the key")
    _, other_key = openssl_cert(tmp, "other")
    refused_at_start(build, models, ["--certificate", cert, "--private-key", other_key],
                     [other_key, cert, "does not go with"], "a key of another certificate")
    os.chmod(key, 0o644)
    refused_at_start(build, models, ["--certificate", cert, "--private-key", key],
                     [key, "every user"], "a world-readable private key")
    refused_at_start(build, models, ["--certificate", cert], ["--private-key"],
                     "--certificate without --private-key")


# ------------------------------------------------------------------ abuse

def half_open(port, n, out):
    """n connections from 127.0.0.1 that send a request line and one header,
    never the blank line that ends the headers."""
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"POST /predictions/tiny HTTP/1.1\r\nHost: x\r\n")
            out.append(s)
        except OSError:
            pass  # refused or reset at once: the per-client limit


def closed_by_server(s, within):
    """True when the server closes (EOF or reset) within `within` seconds."""
    s.settimeout(within)
    try:
        return s.recv(1024) == b""
    except ConnectionResetError:
        return True
    except (socket.timeout, OSError):
        return False


def part_abuse(build, models, tmp, image):
    # The server starts with the usual soft open-file limit of 1,024 (it
    # must raise its own); this test then needs more than 1,100 itself.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, soft), hard))
    try:
        srv = Server(build, models, "--max-connections-per-client", "100",
                     "--header-timeout-s", "2", "--timeout-s", "30", "--quiet")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(4096, hard)), hard))
    P = srv.port
    held = []
    try:
        # The open-file limit raised to hold the cap (8192 + 320 spare), as
        # far as the hard limit allows.
        limits = open("/proc/%d/limits" % srv.proc.pid).read()
        m = re.search(r"Max open files\s+(\d+)\s+(\d+|unlimited)", limits)
        hard_ = float("inf") if m.group(2) == "unlimited" else int(m.group(2))
        check(int(m.group(1)) == min(8512, hard_),
              "RLIMIT_NOFILE soft limit raised to %d (hard %s): %s" %
              (min(8512, hard_), m.group(2), m.group(1)))

        # What the deadline must not touch: a body sent slowly after
        # complete headers (the first request of a connection), and a
        # kept-alive connection waiting for its next request (within
        # --timeout-s). A prediction each: libmicrohttpd 0.9.75 closes the
        # connection after an answer queued at the headers, as /ping's is.
        c = http.client.HTTPConnection("127.0.0.1", P, timeout=10,
                                       source_address=("127.0.0.2", 0))
        got = []
        try:
            c.putrequest("POST", "/predictions/tiny")
            c.putheader("Content-Length", str(len(image)))
            c.endheaders()
            time.sleep(3)  # past the 2 s header deadline; the headers are in
            c.send(image)
            r = c.getresponse()
            got.append((r.status, len(json.loads(r.read()))))
            sock = c.sock
            time.sleep(5)  # kept alive past the deadline (and the sweeper's 2 s of grace)
            c.putrequest("POST", "/predictions/tiny")
            c.putheader("Content-Length", str(len(image)))
            c.endheaders()
            same = c.sock is sock
            c.send(image)
            r = c.getresponse()
            got.append((r.status, len(json.loads(r.read())), "same connection" if same
                        else "reconnected"))
        except OSError as e:
            got.append(str(e))
        c.close()
        check(got == [(200, 5), (200, 5, "same connection")],
              "a body 3 s after its headers, then the connection kept alive 5 s "
              "(header deadline 2 s): both answered (%s)" % got)
        _, _, v = metrics(srv)
        check(v.get('imgclass_connections_header_timeout_total{listener="inference"}') == 0,
              "... and not counted as a header timeout")

        t0 = time.time()
        half_open(P, 1100, held)
        check(len(held) >= 100, "1,100 half-open requests sent from 127.0.0.1 (%d connected)" %
              len(held))

        # Another address is served while they are held.
        def from_other(method, path, body=None):
            c = http.client.HTTPConnection("127.0.0.1", P, timeout=5,
                                           source_address=("127.0.0.2", 0))
            try:
                c.request(method, path, body=body)
                r = c.getresponse()
                return r.status, r.read()
            except OSError as e:
                return None, str(e).encode()
            finally:
                c.close()
        st, body = from_other("GET", "/ping")
        check(st == 200, "127.0.0.2: /ping served within 5 s beside them (%s %r)" % (st, body[:80]))
        st, body = from_other("POST", "/predictions/tiny", image)
        check(st == 200 and len(json.loads(body)) == 5,
              "127.0.0.2: a prediction served within 5 s beside them (%s %r)" % (st, body[:80]))

        # A trickling client (slowloris proper): one header byte every 0.3 s,
        # which resets any idle timeout; the deadline still ends it.
        tr = socket.create_connection(("127.0.0.1", P), timeout=5,
                                      source_address=("127.0.0.2", 0))
        tr.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n")
        trickle_start = time.time()
        trickle_closed = None
        while time.time() - trickle_start < 10:
            try:
                tr.sendall(b"X")
            except OSError:
                trickle_closed = time.time() - trickle_start
                break
            if closed_by_server(tr, 0.3):
                trickle_closed = time.time() - trickle_start
                break
        tr.close()
        check(trickle_closed is not None and trickle_closed >= 1.5,
              "a client trickling its headers is closed by the 2 s header deadline "
              "(after %s s)" % (None if trickle_closed is None else round(trickle_closed, 1)))

        # The held ones are closed once the header deadline has passed.
        left = time.time() - t0
        still = [s for s in held if not closed_by_server(s, max(0.01, 10 - (time.time() - t0)))]
        check(not still, "every half-open connection closed by the server within 10 s "
              "(%d of %d still open, %.1f s)" % (len(still), len(held), time.time() - t0))
        _, _, v = metrics(srv)
        refused = v.get('imgclass_connections_refused_per_client_total{listener="inference"}', 0)
        timeouts = v.get('imgclass_connections_header_timeout_total{listener="inference"}', 0)
        check(refused >= 900, "/metrics: connections refused per client counted (%s)" % refused)
        check(timeouts >= 100, "/metrics: header-deadline closures counted (%s; 100 held, one "
                               "trickling)" % timeouts)
        st, _ = from_other("GET", "/ping")
        check(st == 200, "127.0.0.2 still served afterwards")
        st, _, _ = request(P, "GET", "/ping")
        check(st == 200, "127.0.0.1 served again once its connections are gone")
    finally:
        for s in held:
            s.close()
        rc = srv.stop()
    check(rc == 0, "abuse: SIGTERM exit status %s" % rc)
    log = srv.text_log()
    per = log.count("client 127.0.0.1: more connections than --max-connections-per-client")
    hdr = log.count("client 127.0.0.1: did not send its request headers")
    check(per == 1 and hdr == 1, "each limit logged once for 127.0.0.1 (%d, %d)" % (per, hdr))
    check(log.count("client 127.0.0.2: did not send its request headers") == 1,
          "the trickling client logged once under its own address")

    # A hard open-file limit too short for the cap: lowered, with a warning.
    cmd = [os.path.join(build, "imgclass-serve"), "--model", "tiny=%s/tiny.pt" % models,
           "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"] + PP
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                               (600, 600)))
    lines = []
    deadline = time.time() + 120
    for line in p.stderr:
        lines.append(line.decode(errors="replace"))
        if b"listening on" in line or time.time() > deadline:
            break
    p.terminate()
    rest = p.communicate(timeout=60)[1].decode(errors="replace")
    text = "".join(lines) + rest
    check("open files limited to 600" in text and "--max-connections 8192 lowered to 280" in text
          and "at most 280 connections" in text and p.returncode == 0,
          "hard open-file limit 600: the cap lowered to 280 with a warning, serving, exit 0 "
          "(exit %s)" % p.returncode)

    # The connection cap, reached and counted (no per-client limit).
    srv = Server(build, models, "--max-connections", "50", "--max-connections-per-client",
                 "0", "--quiet")
    held = []
    try:
        half_open(srv.port, 50, held)
        time.sleep(0.5)
        _, _, v = metrics(srv)
        check(v.get('imgclass_connections_cap_reached_total{listener="inference"}', 0) == 1 and
              v.get('imgclass_connections_open{listener="inference"}', 0) == 50,
              "/metrics: the cap of 50 reached once, 50 open (%s)" %
              {k: x for k, x in v.items() if k.startswith("imgclass_connections")})
    finally:
        for s in held:
            s.close()
        rc = srv.stop()
    check(rc == 0, "cap: SIGTERM exit status %s" % rc)
    check("50 open connections, the cap" in srv.text_log(), "the cap reached is logged")


# ------------------------------------------------------------------ page

def skip(why):
    """A part that cannot run here, for a reason outside the project: said,
    and counted as skipped by test/run_all.sh (IMGCLASS_SKIP_LOG)."""
    print("SKIP:", why)
    log = os.environ.get("IMGCLASS_SKIP_LOG")
    if log:
        with open(log, "a") as f:
            f.write("serve_security: %s\n" % why)


def part_page(build, models, tmp):
    """The page with tokens on, in headless Chromium: it shows the token
    field, lists the models once given the token, and classifies."""
    if os.environ.get("SANITIZED") == "1":
        # Its requests (GET /models, POST /predictions with a bearer token)
        # are the tokens part's, which runs under the sanitizers.
        return skip("the page with a token: not under the sanitizers (its requests are "
                    "the tokens part's)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        return skip("the page with a token: python3-selenium is not installed")
    if not os.path.exists("/usr/bin/chromedriver") or not os.path.exists("/usr/bin/chromium"):
        return skip("the page with a token: chromium / chromium-driver are not installed")
    token = "page-Tok3n"
    tf = write(os.path.join(tmp, "page-token"), token + "\n")
    img = os.path.join(tmp, "green.png")
    Image.new("RGB", (20, 20), (0, 255, 0)).save(img)
    srv = Server(build, models, "--token-file", tf, "--quiet")
    driver = None
    try:
        st, _, raw = request(srv.port, "POST", "/predictions/tiny", body=open(img, "rb").read(),
                             headers={"Authorization": "Bearer " + token})
        want = json.loads(raw, object_pairs_hook=list)[0][0]
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=900,900", "--no-first-run", "--disable-extensions"]:
            opts.add_argument(a)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        driver.set_page_load_timeout(30)
        driver.get(srv.url("/"))
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.find_element(By.ID, "tokenrow").is_displayed())
        check(len(driver.find_elements(By.CSS_SELECTOR, "#model option")) == 0,
              "page, tokens on: the token field is shown, no models listed without it (%s)" %
              driver.find_element(By.ID, "status").text)
        field = driver.find_element(By.ID, "token")
        field.send_keys(token)
        driver.execute_script("arguments[0].dispatchEvent(new Event('change'))", field)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) == 2)
        check(True, "page: the models listed once the token is given")
        driver.find_element(By.ID, "file").send_keys(img)
        try:
            wait.until(lambda d: d.find_element(By.ID, "top1").text not in ("", "-"))
        except TimeoutException:
            pass  # judged below, with what the page says
        shown = "%s (status: %s)" % (driver.find_element(By.ID, "top1").text,
                                     driver.find_element(By.ID, "status").text)
        shown = shown.split(" (status: ")[0] if shown.startswith(want) else shown
        check(shown == want, "page with the token: top-1 '%s' shown (API: '%s')" % (shown, want))
    finally:
        if driver is not None:
            driver.quit()
        rc = srv.stop()
    check(rc == 0, "page: SIGTERM exit status %s" % rc)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    build, models = sys.argv[1:3]
    tmp = tempfile.mkdtemp(prefix="imgclass-serve-security.")
    tempfile.tempdir = tmp
    atexit.register(shutil.rmtree, tmp, True)
    image = png(tmp)
    only = os.environ.get("SECURITY_PARTS", "tokens tls abuse page").split()
    if "tokens" in only:
        part_tokens(build, models, tmp, image)
    if "tls" in only:
        part_tls(build, models, tmp, image)
    if "abuse" in only:
        part_abuse(build, models, tmp, image)
    if "page" in only:
        part_page(build, models, tmp)
    serve_check.finish()


if __name__ == "__main__":
    main()
