"""Model.pipeline: futures, ordering, draining, errors, statistics."""
import gc
import os
import threading

import numpy as np
import pytest
from PIL import Image

import imgclass
from conftest import encode, pixels

# No skip when the library lacks the pipeline: this project's library has
# one, so a build without it fails here (Model.pipeline raises) instead of
# passing as skipped.


def inputs_for(images, n):
    base = [images["a.jpg"], images["b.png"], pixels(64, 48, 1), images["c.jpg"],
            encode(Image.fromarray(pixels(80, 60, 2))), images["gray.png"]]
    return [base[i % len(base)] for i in range(n)]


def same(a, b):
    """Same answer: batch composition may move the last float bits."""
    return a.ok == b.ok and (not a.ok or (a.top[0].index == b.top[0].index and
                                          np.allclose(a.scores, b.scores, rtol=1e-5,
                                                      atol=1e-7)))


def test_submit_returns_futures_with_results(tiny16, images):
    items = inputs_for(images, 20)
    want = tiny16.classify(items)
    with tiny16.pipeline(batch=4, max_delay_ms=2) as pipe:
        futures = [pipe.submit(x) for x in items]
        got = [f.result(timeout=60) for f in futures]
    for x, w, g in zip(items, want, got):
        assert g.input is x and same(w, g)
        assert g.top[0].label == f"class {g.top[0].index}"


def test_engine_lanes_same_answers(tiny16, images):
    """Two engine lanes (the engine's threads on every CPU, so that lanes
    apply): the results of one lane, in order, the same bits; a bad count
    is refused."""
    items = inputs_for(images, 24)
    cpus = len(os.sched_getaffinity(0))
    before = imgclass.get_num_threads()
    imgclass.set_num_threads(max(cpus, 2))
    try:
        runs = []
        for lanes in (1, 2):
            with tiny16.pipeline(batch=3, max_delay_ms=1, engine_lanes=lanes) as pipe:
                runs.append(list(pipe.map(items)))
    finally:
        imgclass.set_num_threads(before)
    one, two = runs
    assert [g.input is x for g, x in zip(two, items)] == [True] * len(items)
    for a, b in zip(one, two):
        assert a.ok == b.ok and (not a.ok or np.array_equal(a.scores, b.scores))
    with pytest.raises(ValueError, match="engine_lanes"):
        tiny16.pipeline(engine_lanes=-1)
    with pytest.raises(imgclass.InvalidArgumentError, match="engine_lanes"):
        tiny16.pipeline(engine_lanes=65)


def test_map_keeps_input_order_and_bad_inputs_fail_alone(tiny16, images):
    items = inputs_for(images, 30)
    items[7] = images["truncated.jpg"]
    items[19] = b"not an image"
    with tiny16.pipeline(batch=8, max_delay_ms=1) as pipe:
        got = list(pipe.map(items))
        pipe.flush()  # "delivered" counts callbacks that have returned
        stats = pipe.stats()
    assert [g.input is x for g, x in zip(got, items)] == [True] * 30
    assert [g.ok for g in got].count(False) == 2
    assert isinstance(got[7].exception(), imgclass.CorruptError)
    assert "truncated.jpg" in got[7].error
    assert isinstance(got[19].exception(), imgclass.UnsupportedError)
    assert stats.submitted == stats.delivered == 30 and stats.failed == 2
    assert stats.batched_images == 28 and stats.batches >= 4
    assert stats.batches == stats.batches_full + stats.batches_deadline + stats.batches_flush
    assert 1 <= stats.mean_batch <= 8 and stats.queue_depth == 0
    assert stats.latency_p50_us > 0 and sum(stats.latency_buckets) == 30


@pytest.fixture(scope="module")
def slow_image(tmp_path_factory):
    """A 4000x4000 PNG: decoding it takes long enough to hold back delivery."""
    p = str(tmp_path_factory.mktemp("slow") / "big.png")
    Image.fromarray(np.tile(pixels(500, 500, 3), (8, 8, 1))).save(p)
    return p


def test_ordered_callbacks_arrive_in_submission_order(tiny16, images, slow_image):
    """The slow first image holds back every delivery (ordered), so the done
    callbacks are attached before their results arrive and run on the
    engine thread, in submission order."""
    order = []
    main = threading.get_ident()
    items = [slow_image] + inputs_for(images, 39)
    with tiny16.pipeline(batch=3, max_delay_ms=1, queue_capacity=64) as pipe:
        futures = [pipe.submit(x) for x in items]  # never blocks: room for all
        for i, f in enumerate(futures):
            f.add_done_callback(lambda f, i=i: order.append((i, threading.get_ident())))
    assert sorted(i for i, _ in order) == list(range(40))
    on_engine = [i for i, t in order if t != main]
    assert len(on_engine) >= 30, "the results arrived before the callbacks were attached"
    assert on_engine == sorted(on_engine)


def test_exit_drains_everything(tiny16, images):
    items = inputs_for(images, 25)
    with tiny16.pipeline(batch=16, max_delay_ms=10000) as pipe:
        futures = [pipe.submit(x) for x in items]
    assert all(f.done() for f in futures)
    assert all(f.result().ok for f in futures)
    assert pipe.closed
    with pytest.raises(imgclass.ClosedError):
        pipe.submit(items[0])
    with pytest.raises(imgclass.ClosedError):
        pipe.stats()
    pipe.close()  # idempotent


def test_flush_cuts_the_partial_batch(tiny16, images):
    with tiny16.pipeline(batch=64, max_delay_ms=None) as pipe:
        futures = [pipe.submit(x) for x in inputs_for(images, 5)]
        pipe.flush()
        assert all(f.done() for f in futures)
        s = pipe.stats()
        assert s.batches == s.batches_flush == 1 and s.delivered == 5


def test_nonblocking_submit_reports_busy(tiny16, slow_image):
    with tiny16.pipeline(batch=1, queue_capacity=1, preprocess_threads=1) as pipe:
        first = pipe.submit(slow_image)
        with pytest.raises(imgclass.BusyError):
            for _ in range(100):  # the first is still being decoded
                pipe.submit(pixels(8, 8), block=False)
        assert first.result(timeout=60).ok


def test_threads_submitting_at_once(tiny16, images):
    items = inputs_for(images, 12)
    want = tiny16.classify(items)
    errors = []
    with tiny16.pipeline(batch=8, max_delay_ms=1) as pipe:
        def worker():
            for _ in range(5):
                futures = [pipe.submit(x) for x in items]
                for w, f in zip(want, futures):
                    if not same(w, f.result(timeout=60)):
                        errors.append(f.result())
                gc.collect()  # the callback object must survive collections
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert pipe.stats().delivered == 4 * 5 * 12
    assert errors == []


def test_closing_the_model_closes_its_pipelines(models, images):
    import os
    m = imgclass.Model(os.path.join(models, "tiny16.pt"), input_size=16)
    pipe = m.pipeline()
    f = pipe.submit(images["a.jpg"])
    m.close()
    assert pipe.closed and f.result().ok


def test_argument_mistakes(tiny16):
    with pytest.raises(ValueError, match="batch"):
        tiny16.pipeline(batch=0)
    with pytest.raises(ValueError, match="max_delay_ms"):
        tiny16.pipeline(max_delay_ms=-1)
    with tiny16.pipeline() as pipe:
        with pytest.raises(TypeError):
            pipe.submit(3.5)
        with pytest.raises(ValueError, match="window"):
            list(pipe.map([], window=0))
        assert pipe.stats().submitted == 0
