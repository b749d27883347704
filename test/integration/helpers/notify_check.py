#!/usr/bin/env python3
"""systemd's notification protocol as a unit with Type=notify sees it, without
systemd: the test binds the $NOTIFY_SOCKET datagram socket itself, starts
imgclass-serve and imgclass-watch with it (and a $WATCHDOG_USEC), and checks
READY=1 once the program can do its job (serve answers /ping), WATCHDOG=1
pings, STOPPING=1 at SIGTERM, and a clean exit.

    notify_check.py BUILD MODELS_DIR

Loopback only; every wait is bounded.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures.append(what)


class Listener:
    """The service manager's end: a bound AF_UNIX datagram socket that
    collects what the program sends."""

    def __init__(self, folder, abstract):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "imgclass-notify-test-%d-%d" % (os.getpid(), time.monotonic_ns())
            self.sock.bind("\0" + name)
            self.env_value = "@" + name
        else:
            path = os.path.join(folder, "notify.sock")
            self.sock.bind(path)
            self.env_value = path
        self.messages = []

    def wait_for(self, assignment, timeout):
        """True once a datagram holding the line `assignment` arrived."""
        deadline = time.monotonic() + timeout
        while True:
            if any(assignment in m.split("\n") for m in self.messages):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                return False

    def wait_match(self, pattern, timeout):
        """The first line of the datagrams (so far, or arriving within
        timeout) that matches the regular expression `pattern`, or None."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self.messages:
                for line in m.split("\n"):
                    if re.fullmatch(pattern, line):
                        return line
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                return None


def start(cmd, listener, watchdog_usec):
    env = dict(os.environ, NOTIFY_SOCKET=listener.env_value, WATCHDOG_USEC=str(watchdog_usec))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = []
    reader = threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True)
    reader.start()
    return proc, log, reader


def stop(proc, reader):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = None
    reader.join(5)
    return rc


def check_program(name, cmd, listener, on_ready=None):
    proc, log, reader = start(cmd, listener, 400000)
    try:
        ready = listener.wait_for("READY=1", 240)
        check(ready, "%s sends READY=1" % name)
        if ready and on_ready:
            on_ready(log)
        check(any(m.startswith("READY=1\nSTATUS=") for m in listener.messages),
              "%s says what it does in STATUS= with READY=1" % name)
        check(listener.wait_for("WATCHDOG=1", 10),
              "%s pings the watchdog (WATCHDOG_USEC 0.4 s)" % name)
    finally:
        rc = stop(proc, reader)
    check(listener.wait_for("STOPPING=1", 5), "%s sends STOPPING=1 at SIGTERM" % name)
    check(rc == 0, "%s exits 0 after SIGTERM (got %r)%s" %
          (name, rc, "" if rc == 0 else "\n" + b"".join(log).decode(errors="replace")))


def serve_answers_ping(log):
    # The line is written before READY=1 is sent; the reader thread may
    # still be on its way to it.
    deadline = time.monotonic() + 30
    while True:
        text = b"".join(log).decode(errors="replace")
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", text)
        if m or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    check(m is not None, "imgclass-serve has printed its address by READY=1")
    if m:
        with urllib.request.urlopen("http://127.0.0.1:%s/ping" % m.group(1), timeout=30) as r:
            check(r.status == 200, "imgclass-serve answers /ping once READY=1 is sent")


def main():
    build, models = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="notify_check.")
    serve = [os.path.join(build, "imgclass-serve"), "--model", "tiny=%s/tiny.pt" % models,
             "--size", "8x8", "--crop", "none", "--listen", "127.0.0.1:0",
             "--metrics-listen", "127.0.0.1:0"]
    check_program("imgclass-serve", serve, Listener(tmp, abstract=False), serve_answers_ping)
    inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
    os.makedirs(inp)
    watch = [os.path.join(build, "imgclass-watch"), "--model", "%s/tiny.pt" % models,
             "--size", "8x8", "--crop", "none", "--input", inp, "--output", out]
    check_program("imgclass-watch (abstract socket)", watch, Listener(tmp, abstract=True))
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
