"""Concurrency: every call into C releases the GIL, and threads sharing a
model never get a wrong answer. (How much faster 4 threads are is measured
by `make bench`, not asserted here.)"""
import threading
import time

import numpy as np
import pytest

import imgclass
from conftest import pixels


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


def test_the_gil_is_released_during_c_calls(images):
    """A Python thread keeps running while another is inside a long C call.
    If the GIL were held, the counter could not move during the call."""
    big = [images["a.jpg"]] * 64
    imgclass.preprocess(big[:2], threads=1)
    ticks = 0
    inside = threading.Event()
    done = threading.Event()
    during = []

    def call():
        inside.set()
        t0 = time.perf_counter()
        imgclass.preprocess(big, threads=1)
        during.append(time.perf_counter() - t0)
        done.set()

    t = threading.Thread(target=call)
    t.start()
    inside.wait()
    while not done.is_set():
        ticks += 1
        time.sleep(0)
    t.join()
    if during[0] < 0.05:
        pytest.skip(f"the call took only {during[0] * 1000:.1f} ms: too short to observe")
    # sys.getswitchinterval() is 5 ms: a held GIL would allow at most a
    # handful of ticks between the call's few Python-level steps.
    assert ticks > 200, f"{ticks} ticks in {during[0] * 1000:.0f} ms"
