#!/usr/bin/python3
"""`make bench` (and `make bench-serve-fleet` alone): issue 28's goals for
imgclass-serve in a fleet, 32 keep-alive clients (wrk) on loopback,
ResNet-18 on the sample photos:

  - v2 infer with BYTES images against `POST /predictions/{m}`, the same
    photos, model and server: requests/s >= 0.95 of it;
  - hot swap: p99 latency of a round during which the model is re-registered
    under the name the clients use (through the management API) <= 2x the
    p99 of a round of the same length without swaps, and no failed request;
  - HTTPS against plain HTTP, two servers alike but for the certificate:
    requests/s >= 0.9 of it.

Two servers run during the whole measurement: plain HTTP and HTTPS, both
with --enable-model-api. Each round runs every side once for --seconds,
alternating the order from one round to the next so that load from
elsewhere hits both sides of a comparison alike; a ratio is the median of
the per-round ratios. Before measuring, one request of each kind is checked
(status and answer) and sent 3 times on one connection to see whether the
server keeps connections alive.

Writes (replaces) the section between <!-- serve-fleet --> and
<!-- /serve-fleet --> in --out, with the load average at its start and
end; refused (exit 3, nothing written) when the load at the start exceeds
--max-load (bench/measure.py). Exits 1 without writing when wrk or openssl
is missing or a server or request breaks the measurement; exits 1 after
writing when a request failed or a swap was refused (the section says so):
that is a server bug, not a figure.

    serve_fleet_bench.py --build BUILD [--seconds 8] [--rounds 3] [--swaps 2]
                         [--clients 32] [--out docs/benchmarks.md] [--max-load L]
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from inputs import export_model, photo_folder  # noqa: E402
from measure import (add_max_load_option, load_phrase, median,  # noqa: E402
                     quiet_section_start, replace_section)
from run import cpu_name  # noqa: E402
from serve_fleet_inputs import (KINDS, body_lists, first_request,  # noqa: E402
                                self_signed_certificate)
from serve_harness import Server, exchange, require_tool, wrk  # noqa: E402

NAME = "serve fleet bench"
BEGIN, END = "<!-- serve-fleet -->", "<!-- /serve-fleet -->"
SECTION = "## HTTP server for a fleet: v2 protocol, hot swap, TLS (imgclass-serve)"
MODEL = "resnet18"
GOALS = {"v2": 0.95, "swap": 2.0, "tls": 0.9}


def check_answers(server, kind, files, cafile):
    """Raises RuntimeError unless a request of `kind` is answered 200 with
    the answer its API promises; returns whether the connection was kept."""
    body, headers = first_request(kind, files)
    path = "/predictions/%s" % MODEL if kind == "predictions" else "/v2/models/%s/infer" % MODEL
    answers, kept = exchange(server, "POST", path, body, headers, cafile)
    for status, text in answers:
        ok = status == 200
        if ok:
            try:
                j = json.loads(text)
                ok = (len(j) == 5 if kind == "predictions" else
                      j["outputs"][0]["shape"] == [1, 1000])
            except (ValueError, KeyError, IndexError, TypeError):
                ok = False
        if not ok:
            raise RuntimeError("%s %s on %s: %d %s" % (kind, path, server.url(), status,
                                                       text[:300].decode(errors="replace")))
    return kept


def register(server, model):
    """Re-registers `model` under MODEL through the management API: a hot
    swap. Returns (status, seconds, version or the error's text)."""
    query = urllib.parse.urlencode({"url": os.path.abspath(model), "model_name": MODEL})
    req = urllib.request.Request("http://127.0.0.1:%d/models?%s" % (server.management_port,
                                                                    query),
                                 data=b"", method="POST")
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    except OSError as e:
        status, text = None, repr(e).encode()
    seconds = time.monotonic() - t0
    try:
        what = json.loads(text).get("modelVersion") if status == 200 else None
    except ValueError:
        what = None
    return status, seconds, what or text[:200].decode(errors="replace")


def swap_round(server, model, lists, seconds, clients, swaps):
    """wrk on /predictions for `seconds` s while the model is re-registered
    `swaps` times, evenly spread. Returns wrk's figures, with "swaps": each
    (status, seconds, version or error, ended within the round)."""
    out = {}

    def clients_run():
        try:
            out["r"] = wrk(server.url(), "/predictions/" + MODEL, lists["predictions"],
                           seconds, clients, KINDS["predictions"][1])
        except Exception as e:  # re-raised below, in the main thread
            out["error"] = e
    t = threading.Thread(target=clients_run)
    start = time.monotonic()
    t.start()
    done = []
    try:
        for k in range(swaps):
            time.sleep(max(0.0, start + seconds * (k + 1) / (swaps + 1) - time.monotonic()))
            status, took, what = register(server, model)
            done.append((status, took, what, time.monotonic() - start <= seconds))
    finally:
        t.join(seconds + 180)
    if "error" in out or "r" not in out:
        raise out.get("error", RuntimeError("wrk did not finish"))
    out["r"]["swaps"] = done
    return out["r"]


def run_side(side, servers, lists, args, model):
    """One measurement of `side`; the server left idle afterwards."""
    server = servers["https" if side == "https" else "http"]
    if side == "swap":
        r = swap_round(server, model, lists, args.seconds, args.clients, args.swaps)
    else:
        kind = "predictions" if side in ("https", "noswap") else side
        path = "/predictions/" + MODEL if kind == "predictions" else "/v2/models/%s/infer" % MODEL
        r = wrk(server.url(), path, lists[kind], args.seconds, args.clients, KINDS[kind][1])
    server.wait_idle()
    return r


def failed(r):
    return r["non2xx"] + r["socket_errors"]


def verdict(ok, errors):
    if errors:
        return "**fail** (%s)" % errors
    return "pass" if ok else "**fail**"


def section(args, runs, ratios, kept, kept_get, rss, rcs, loads, source):
    """The Markdown section, from the measurements."""
    def med(side, key):
        return median([r[key] for r in runs[side]])

    def each(side, key, scale=1.0, fmt="%.1f"):
        return ", ".join(fmt % (r[key] / scale) for r in runs[side])
    swaps = [s for r in runs["swap"] for s in r["swaps"]]
    refused = [s for s in swaps if s[0] != 200]
    late = [s for s in swaps if s[0] == 200 and not s[3]]

    def errors(*sides):
        n = sum(failed(r) for side in sides for r in runs[side])
        return "%d failed requests" % n if n else ""
    swap_errors = "; ".join(x for x in (
        errors("swap", "noswap"),
        "%d of %d swaps refused: %s" % (len(refused), len(swaps), refused[0][2]) if refused
        else "",
        "%d of %d swaps ended after their round" % (len(late), len(swaps)) if late else "")
        if x)
    goal_rows = [
        ("v2 infer (BYTES, base64 in JSON) requests/s / `/predictions` requests/s, same server",
         ratios["v2"], ">= %.2f" % GOALS["v2"], verdict(ratios["v2"] >= GOALS["v2"],
                                                       errors("predictions", "v2-json"))),
        ("p99 latency during hot swaps / p99 without (%d swaps per %d s round)" %
         (args.swaps, args.seconds), ratios["swap"], "<= %.1f" % GOALS["swap"],
         verdict(ratios["swap"] <= GOALS["swap"], swap_errors)),
        ("HTTPS requests/s / HTTP requests/s (`/predictions`)", ratios["tls"],
         ">= %.2f" % GOALS["tls"], verdict(ratios["tls"] >= GOALS["tls"],
                                           errors("predictions", "https"))),
    ]
    if all(kept.values()):
        ka = ("every kind of request measured here was answered on a kept-alive connection "
              "(3 requests on one connection each, HTTP and HTTPS): a client's TLS handshake "
              "is paid once, not per request")
    else:
        closing = ", ".join(k for k, v in kept.items() if not v)
        ka = ("imgclass-serve closed the connection after every answer of: %s; wrk reconnects, "
              "so each of those requests paid a new connection (over HTTPS a TLS handshake)"
              % closing)
    ka += ("; GET requests (`GET /v2/health/ready` tried, not measured) are %s" % (
        "kept alive too" if kept_get else
        "answered with `Connection: close`, a new connection (and TLS handshake) each"))
    titles = {"predictions": "HTTP, " + KINDS["predictions"][0],
              "v2-json": "HTTP, " + KINDS["v2-json"][0],
              "v2-binary": "HTTP, " + KINDS["v2-binary"][0],
              "https": "HTTPS, " + KINDS["predictions"][0],
              "noswap": "HTTP, `/predictions`, no swap",
              "swap": "HTTP, `/predictions`, %d swaps a round" % args.swaps}
    lines = [BEGIN, SECTION, "",
             "- measured: %s UTC on %s, %d CPUs; %s" %
             (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), cpu_name(), os.cpu_count(), loads),
             "- model: ResNet-18 with seeded random weights (tools/export_model.py "
             "--random-seed 0), served as `%s`; images: %s, sent in turn" % (MODEL, source),
             "- load: wrk, %d keep-alive connections, 2 client threads, %d s a run, %d round%s; "
             "each round runs every row once, in the opposite order to the round before; "
             "ratio = median of the per-round ratios; loopback only" %
             (args.clients, args.seconds, args.rounds, "" if args.rounds == 1 else "s"),
             "- servers: two `imgclass-serve --batch 8 --max-batch-delay-ms 5 --queue 256 "
             "--threads %d --enable-model-api`, one with `--certificate --private-key` "
             "(self-signed RSA 2048), both running during the whole measurement; a swap "
             "re-registers the same file under `%s` (`POST /models?url=...&model_name=%s` "
             "on the management address), evenly spread over the round" %
             (args.threads, MODEL, MODEL),
             "- keep-alive: " + ka,
             "- command: `make bench-serve-fleet` (bench/serve_fleet_bench.py; also part of "
             "`make bench`)", "",
             "| goal | figure | goal | result |", "| --- | ---: | --- | --- |"]
    lines += ["| %s | %.2f | %s | %s |" % row for row in goal_rows]
    lines += ["", "| run | requests/s, each round | p50 ms | p99 ms, each round | failed |",
              "| --- | --- | ---: | --- | ---: |"]
    for side in ("predictions", "v2-json", "v2-binary", "https", "noswap", "swap"):
        lines.append("| %s | %s | %.1f | %s | %d |" % (
            titles[side], each(side, "rps"), med(side, "p50_us") / 1e3,
            each(side, "p99_us", 1e3), sum(failed(r) for r in runs[side])))
    lines += ["",
              "v2 with the binary-data extension: %.2f of `/predictions` (no goal). Swaps: %s. "
              "Server RSS, MiB, after the warm-up / at the end (peak): HTTP %.0f / %.0f (%.0f), "
              "after its %d swaps; HTTPS %.0f / %.0f (%.0f). Exit status after SIGTERM: HTTP "
              "%s, HTTPS %s." % (
                  ratios["v2-binary"],
                  "; ".join("%s in %.1f s%s" % ("version %s" % s[2] if s[0] == 200 else
                                                "refused (%s: %s)" % (s[0], s[2]), s[1],
                                                "" if s[3] else " (after the round)")
                            for s in swaps),
                  rss["warm"]["http"][0], rss["end"]["http"][0], rss["end"]["http"][1],
                  len(swaps), rss["warm"]["https"][0], rss["end"]["https"][0],
                  rss["end"]["https"][1],
                  rcs.get("http"), rcs.get("https")), END]
    # A late swap only leaves the goal unshown; a failed request or a
    # refused swap is a server bug.
    failures = bool(refused or errors(*runs))
    return "\n".join(lines), failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=8, help="length of each run (default 8)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--swaps", type=int, default=2, help="hot swaps in each swap run")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2, help="engine threads of each server")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"),
                    help="the Markdown file whose section is replaced")
    add_max_load_option(ap)
    args = ap.parse_args()
    require_tool(NAME, "wrk", "it is the HTTP client that loads the servers")
    require_tool(NAME, "openssl", "it makes the HTTPS server's certificate")
    start_load = quiet_section_start(NAME, args.max_load, build=args.build)

    tmp = tempfile.mkdtemp(prefix="imgclass-serve-fleet.")
    servers, rcs = {}, {}
    try:
        model = os.path.join(tmp, "resnet18-random.pt")
        export_model(model, py="/usr/bin/python3")
        _, files, source = photo_folder(tmp)
        lists = body_lists(tmp, files)
        cert, key = self_signed_certificate(tmp)
        common = ["--model", "%s=%s" % (MODEL, model), "--batch", "8",
                  "--max-batch-delay-ms", "5", "--queue", "256", "--threads", str(args.threads),
                  "--enable-model-api", "--management-listen", "127.0.0.1:0"]
        servers["http"] = Server(args.build, common)
        servers["https"] = Server(args.build, common + ["--certificate", cert,
                                                        "--private-key", key])
        kept = {"HTTP " + k: check_answers(servers["http"], k, files, cert) for k in KINDS}
        kept["HTTPS predictions"] = check_answers(servers["https"], "predictions", files, cert)
        # Not measured, said beside: what a load balancer's health check meets.
        answers, kept_get = exchange(servers["https"], "GET", "/v2/health/ready", cafile=cert)
        if any(status != 200 for status, _ in answers):
            raise RuntimeError("GET /v2/health/ready on %s: %s" % (servers["https"].url(),
                                                                   answers))
        for name, server in servers.items():  # warm-up: first passes, page faults
            wrk(server.url(), "/predictions/" + MODEL, lists["predictions"], 3, args.clients)
            server.wait_idle()
        rss = {"warm": {name: s.rss_mib() for name, s in servers.items()}}

        # Each comparison's sides run next to each other in every round.
        order = ["https", "predictions", "v2-json", "v2-binary", "noswap", "swap"]
        runs = {side: [] for side in order}
        for rnd in range(args.rounds):
            for side in (order if rnd % 2 == 0 else order[::-1]):
                r = run_side(side, servers, lists, args, model)
                runs[side].append(r)
                print("%s: round %d, %s: %.1f req/s, p50 %.0f ms, p99 %.0f ms, failed %d%s" % (
                    NAME, rnd + 1, side, r["rps"], r["p50_us"] / 1e3, r["p99_us"] / 1e3,
                    failed(r), (", swaps %s" % r["swaps"]) if "swaps" in r else ""),
                    file=sys.stderr, flush=True)
        rss["end"] = {name: s.rss_mib() for name, s in servers.items()}
    finally:
        for name, server in servers.items():
            rcs[name] = server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    loads = load_phrase(start_load, NAME)

    def ratio(a, b, key="rps"):
        return median([x[key] / max(y[key], 1e-9) for x, y in zip(runs[a], runs[b])])
    ratios = {"v2": ratio("v2-json", "predictions"), "v2-binary": ratio("v2-binary", "predictions"),
              "swap": ratio("swap", "noswap", "p99_us"), "tls": ratio("https", "predictions")}
    text, failures = section(args, runs, ratios, kept, kept_get, rss, rcs, loads, source)
    replace_section(args.out, BEGIN, END, text)
    print(text)
    if failures:
        print("%s: requests failed or swaps were refused (see the section)" % NAME,
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        sys.exit("%s: %s" % (NAME, e))
