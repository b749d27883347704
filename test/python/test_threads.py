"""Concurrency: every call into C releases the GIL, and threads sharing a
model never get a wrong answer. (How much faster 4 threads are is measured
by `make bench`, not asserted here.)"""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import imgclass
from conftest import REPO, pixels


def test_four_threads_are_never_wrong(tiny16, images):
    inputs = [images["a.jpg"], images["b.png"], pixels(64, 48, 1), images["truncated.jpg"],
              pixels(300, 200, 2), images["gray.png"]]
    want = tiny16.classify(inputs)
    errors = []

    def worker(seed):
        rng = np.random.default_rng(seed)
        for _ in range(40):
            order = rng.permutation(len(inputs))
            got = tiny16.classify([inputs[i] for i in order])
            for j, i in enumerate(order):
                w, g = want[i], got[j]
                if w.ok != g.ok or (w.ok and not np.array_equal(w.scores, g.scores)) or \
                        (not w.ok and w.error != g.error):
                    errors.append((seed, i, g))

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_preprocess_threads_agree(images):
    files = [images["a.jpg"], images["b.png"], images["c.jpg"]] * 4
    want = imgclass.preprocess(files, threads=1)
    results = [None] * 4

    def worker(i):
        results[i] = imgclass.preprocess(files, threads=2)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert np.array_equal(r.view(np.uint32), want.view(np.uint32))


# Run in a child interpreter: a held GIL deadlocks it, and only its timeout
# can end that.
GIL_CHILD = """
import sys, threading
import imgclass
fifo, image = sys.argv[1], sys.argv[2]
with open(image, "rb") as f:
    data = f.read()
out = []
reader = threading.Thread(target=lambda: out.append(imgclass.preprocess(fifo, threads=1)))
reader.start()
with open(fifo, "wb") as f:  # meets the C call's open of the pipe
    f.write(data)
reader.join()
print("shape", out[0].shape)
"""


def test_the_gil_is_released_during_c_calls(images, tmp_path):
    """A Python thread keeps running while another is inside a C call: the
    call reads a named pipe that only the other thread writes. Were the GIL
    held during the call, the writer could never run and the child would
    hang until the timeout, on a fast machine as on a slow one (no time is
    measured)."""
    fifo = str(tmp_path / "image.fifo")
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "bindings", "python"))
    try:
        r = subprocess.run([sys.executable, "-c", GIL_CHILD, fifo, images["a.jpg"]], env=env,
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the writer thread never ran while preprocess() read the pipe: "
                    "the GIL is held during the C call")
    assert r.returncode == 0 and "shape (1, 3, 224, 224)" in r.stdout, r.stdout + r.stderr
