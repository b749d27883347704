"""Runs a command and returns its wall time and peak RSS (from wait4), so
every benchmark measures its subjects the same way."""
import os
import subprocess
import time


def run_measured(cmd, env=None, stdout=subprocess.DEVNULL):
    """Returns (seconds, peak_rss_bytes). Raises on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 2):
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}: {err[-2000:]}")
    return seconds, usage.ru_maxrss * 1024


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def replace_section(path, begin, end, text):
    """Writes `text` (which starts with the marker `begin` and ends with
    `end`) into the file at `path` in place of an earlier section between
    the same markers, or appended when there is none."""
    old = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if begin in old and end in old:
        new = old[:old.index(begin)] + text + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    with open(path, "w") as f:
        f.write(new)
