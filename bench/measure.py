"""What every benchmark shares: running a command for its wall time and peak
RSS (from wait4), medians, replacing a section of a Markdown file, and the
quiet-machine guard every section of `make bench` starts with."""
import math
import os
import subprocess
import sys
import time

# A section is measured on a quiet machine: the 1-minute load average at
# its start may not exceed this (issue 27: figures taken at load average 20
# made docs/benchmarks.md untrustworthy).
QUIET_LOAD = 1.0
MAX_LOAD_ENV = "IMGCLASS_BENCH_MAX_LOAD"
SETTLE_ENV = "IMGCLASS_BENCH_SETTLE_S"
# The load average left by the previous section (2 busy threads: ~2.0)
# needs ~42 s to fall under 1.0 on an idle machine, so a section waits up
# to this long for it before refusing.
DEFAULT_SETTLE_S = 120.0
REFUSED = 3  # exit status of a refused section


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


def _env_float(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        sys.exit(f"{name}={value!r}: not a number")


def add_max_load_option(parser):
    """--max-load LOAD, its default from IMGCLASS_BENCH_MAX_LOAD, else 1.0."""
    parser.add_argument(
        "--max-load", type=float, default=_env_float(MAX_LOAD_ENV, QUIET_LOAD),
        help=f"refuse the section when the 1-minute load average at its start exceeds this"
             f" (default: ${MAX_LOAD_ENV}, else {QUIET_LOAD}); above {QUIET_LOAD} the section"
             " says it was measured under load")


def build_current(build, drivers=()):
    """Brings `make all` and these bench drivers (names under BUILD/bench/)
    up to date: the drivers and the programs link the library statically, so
    a script run alone after a change to lib/ would otherwise measure the
    build before it. A build already current costs one make that does
    nothing."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rel = os.path.relpath(os.path.abspath(build), repo)  # as the Makefile names it
    subprocess.run(["make", "-s", "-C", repo, "BUILD=" + rel, "all"]
                   + [os.path.join(rel, "bench", d) for d in drivers],
                   check=True, stdout=subprocess.DEVNULL)


def quiet_section_start(name, max_load, settle_s=None, build=None, drivers=()):
    """Returns the load average at the start of section `name`, or exits
    with status REFUSED (nothing written, the reason on stderr) when it
    exceeds `max_load`. With `build`, first brings that build and the named
    drivers up to date (build_current). A load still decaying from the
    previous section (or from that build) is waited for, up to `settle_s`
    seconds (default: $IMGCLASS_BENCH_SETTLE_S, else 120), but only while an
    idle machine could still bring it under the limit in the time left: a
    busy machine is refused at once."""
    if build is not None:
        build_current(build, drivers)
    if settle_s is None:
        settle_s = _env_float(SETTLE_ENV, DEFAULT_SETTLE_S)
    deadline = time.monotonic() + settle_s
    load = os.getloadavg()[0]
    while load > max_load:
        left = deadline - time.monotonic()
        # The kernel's 1-minute average decays as exp(-t/60) when idle.
        if left <= 0 or load * math.exp(-left / 60.0) > max_load:
            waited = settle_s - max(left, 0.0)
            print(f"{name}: refused: load average {load:.2f} at the start exceeds {max_load:.2f}"
                  + (f" (after waiting {waited:.0f} s for it to settle)" if waited >= 1 else "")
                  + "; nothing written. Rerun on a quiet machine, or raise --max-load"
                  f" (or ${MAX_LOAD_ENV}) to measure under load knowingly.", file=sys.stderr)
            sys.exit(REFUSED)
        print(f"{name}: load average {load:.2f} > {max_load:.2f}; waiting for it to settle"
              f" ({left:.0f} s left)", file=sys.stderr, flush=True)
        time.sleep(min(5.0, left))
        load = os.getloadavg()[0]
    print(f"{name}: load average {load:.2f} at the start", file=sys.stderr, flush=True)
    return load


def load_phrase(start_load, name=None):
    """The sentence a section's text carries: the load average at its start
    (from quiet_section_start) and now, at its end; "measured under load"
    when the start was above QUIET_LOAD (the limit raised on purpose)."""
    end_load = os.getloadavg()[0]
    if name:
        print(f"{name}: load average {end_load:.2f} at the end", file=sys.stderr, flush=True)
    text = f"load average {start_load:.2f} at the start, {end_load:.2f} at the end"
    if start_load > QUIET_LOAD:
        text += (f" (measured under load: above the {QUIET_LOAD:.1f} of a quiet machine;"
                 " not comparable with a quiet run)")
    return text
