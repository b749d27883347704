"""Model.classify / predict / topk: the same answers as PyTorch, every input
type, bad inputs, and errors mapped to the right exception."""
import os
import pathlib
import tracemalloc

import numpy as np
import pytest
import torch
from PIL import Image

import imgclass
from conftest import encode, pixels, reference


def torch_scores(models, inputs):
    """The PyTorch pipeline: Pillow + torchvision, torch.jit, softmax."""
    net = torch.jit.load(os.path.join(models, "tiny16.pt")).eval()
    x = torch.stack([torch.from_numpy(reference(i, 18, 16)) for i in inputs])
    with torch.inference_mode():
        return torch.softmax(net(x), 1).numpy()


def test_model_properties(tiny16, models):
    assert tiny16.classes == 10
    assert tiny16.input_size == (3, 16, 16)
    assert tiny16.labels == [f"class {i}" for i in range(10)]
    assert tiny16.device == "cpu"
    with imgclass.Model(os.path.join(models, "tiny.pt"), input_size=8,
                        labels=os.path.join(models, "labels_synset.txt")) as m:
        assert m.labels[0] == "tench, Tinca tinca" and m.label_ids[0] == "n01440764"
    with imgclass.Model(os.path.join(models, "tiny.pt"), input_size=8) as m:
        assert m.labels is None and m.label_ids is None
        assert m.classify(pixels(20, 20))[0].top[0].label is None
    with pytest.raises(ValueError, match="closed"):
        m.classify(pixels(20, 20))


def test_top1_matches_pytorch(tiny16, images, tmp_path):
    files = [images[k] for k in ("a.jpg", "b.png", "c.jpg", "d.bmp", "gray.png")]
    for i in range(15):
        p = str(tmp_path / f"g{i}.png")
        Image.fromarray(pixels(40 + 13 * i, 90 - 3 * i, 100 + i)).save(p)
        files.append(p)
    want = torch_scores(os.path.dirname(tiny16.path), files)
    got = tiny16.classify(files, topk=3)
    assert [r.error for r in got] == [None] * len(files)
    assert [r.top[0].index for r in got] == list(want.argmax(1))
    np.testing.assert_allclose(np.stack([r.scores for r in got]), want, rtol=1e-4, atol=1e-6)
    for r in got:
        assert len(r.top) == 3 and r.top[0].label == f"class {r.top[0].index}"
        assert r.top[0].score == pytest.approx(float(r.scores.max()))
        assert r.scores.dtype == np.float32 and r.scores.shape == (10,)


def test_every_input_type(tiny16, tmp_path):
    rgb = pixels(120, 90, 7)
    img = Image.fromarray(rgb)
    path = tmp_path / "x.png"
    img.save(path)
    data = encode(img)
    big = np.zeros((100, 200, 3), np.uint8)
    big[5:95, 10:130] = rgb
    inputs = [str(path), path, data, bytearray(data), memoryview(data), rgb, img,
              np.dstack([rgb, np.zeros(rgb.shape[:2], np.uint8)]), big[5:95, 10:130],
              np.asfortranarray(rgb), img.convert("RGBA")]
    results = tiny16.classify(inputs)
    want = results[0].scores
    for inp, r in zip(inputs, results):
        assert r.input is inp and r.ok, r
        assert np.array_equal(r.scores, want), type(inp)
    bgr = tiny16.classify(np.ascontiguousarray(rgb[:, :, ::-1]), bgr=True)[0]
    assert np.array_equal(bgr.scores, want)
    gray = np.asarray(img.convert("L"))
    g = tiny16.classify([gray, img.convert("L")])
    assert np.array_equal(g[0].scores, g[1].scores)
    np.testing.assert_allclose(g[0].scores, torch_scores(os.path.dirname(tiny16.path),
                                                         [img.convert("L")])[0],
                               rtol=1e-4, atol=1e-6)


def test_bad_inputs_fail_alone(tiny16, images):
    good = images["a.jpg"]
    inputs = [good, images["truncated.jpg"], images["garbage.jpg"], "/nonexistent/x.jpg",
              b"", b"not an image at all", good]
    r = tiny16.classify(inputs)
    assert [x.ok for x in r] == [True, False, False, False, False, False, True]
    assert np.array_equal(r[0].scores, r[6].scores)
    assert r[1].status == imgclass.CorruptError.status and "truncated.jpg" in r[1].error
    assert isinstance(r[1].exception(), imgclass.CorruptError)
    assert isinstance(r[3].exception(), imgclass.IoError) and "/nonexistent/x.jpg" in r[3].error
    assert "memory buffer" in r[5].error
    assert isinstance(r[5].exception(), imgclass.UnsupportedError)
    for x in r[1:6]:
        assert x.top == [] and x.scores is None and x.error


def test_argument_mistakes_raise_before_c(tiny16):
    rgb = pixels(20, 20)
    with pytest.raises(TypeError, match="uint8"):
        tiny16.classify(rgb.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        tiny16.classify(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        tiny16.classify(np.zeros((2, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        tiny16.classify(np.zeros((0, 4, 3), np.uint8))
    with pytest.raises(TypeError, match="input 1: cannot classify a int"):
        tiny16.classify([rgb, 42])
    with pytest.raises(ValueError, match="topk"):
        tiny16.classify(rgb, topk=0)
    with pytest.raises(ValueError, match="NUL"):
        tiny16.classify("a\0b.jpg")
    with pytest.raises(ValueError, match="contiguous"):
        tiny16.classify(memoryview(b"abcdef")[::2])
    assert tiny16.classify([]) == []


def test_model_errors_map_to_exceptions(models, tmp_path):
    def load(name, **kw):
        kw.setdefault("input_size", 8)
        return imgclass.Model(os.path.join(models, name), **kw)

    with pytest.raises(imgclass.IoError) as e:
        load("does_not_exist.pt")
    assert e.value.status == -3 and "does_not_exist.pt" in e.value.message
    assert isinstance(e.value, OSError) and isinstance(e.value, imgclass.Error)
    with pytest.raises(imgclass.ModelError):
        load("not_a_model.txt")
    with pytest.raises(imgclass.ModelError):
        load("rank3.pt")
    with pytest.raises(imgclass.LabelsError, match="4"):
        load("tiny.pt", labels=os.path.join(models, "labels_wrong_count.txt"))
    with pytest.raises(imgclass.LabelsError):
        load("tiny.pt", labels=["only", "two"])
    with pytest.raises(TypeError):
        imgclass.Model(42)
    with pytest.raises(ValueError, match="input_size"):
        load("tiny.pt", input_size=0)
    if not torch.cuda.is_available():
        with pytest.raises(imgclass.DeviceError):
            load("tiny.pt", device="cuda:0")


def test_error_hierarchy():
    statuses = {imgclass.InvalidArgumentError: -1, imgclass.OutOfMemoryError: -2,
                imgclass.IoError: -3, imgclass.UnsupportedError: -4, imgclass.CorruptError: -5,
                imgclass.TooLargeError: -6, imgclass.ModelError: -7, imgclass.LabelsError: -8,
                imgclass.DeviceError: -9, imgclass.EngineError: -10, imgclass.BusyError: -11,
                imgclass.ClosedError: -12}
    for cls, st in statuses.items():
        assert imgclass.error_class(st) is cls and issubclass(cls, imgclass.Error)
        assert cls.status == st
    assert imgclass.error_class(-99) is imgclass.Error
    assert issubclass(imgclass.InvalidArgumentError, ValueError)


def test_predict_matches_classify_and_pytorch(tiny16, images):
    files = [images["a.jpg"], images["b.png"]]
    batch = imgclass.preprocess(files, 18, 16)
    scores = tiny16.predict(batch)
    assert scores.shape == (2, 10) and scores.dtype == np.float32
    np.testing.assert_array_equal(scores, np.stack([r.scores for r in tiny16.classify(files)]))
    np.testing.assert_allclose(scores, torch_scores(os.path.dirname(tiny16.path), files),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(tiny16.predict(batch.astype(np.float64)), scores)
    with pytest.raises(ValueError, match=r"\(N, 3, 16, 16\)"):
        tiny16.predict(batch[:, :, :8])
    with pytest.raises(TypeError, match="float32"):
        tiny16.predict(batch.astype(np.int32))
    with pytest.raises(TypeError):
        tiny16.predict(batch.tolist())


def test_predict_does_not_copy_a_contiguous_float32_batch(tiny16):
    batch = np.random.default_rng(0).standard_normal((512, 3, 16, 16)).astype(np.float32)
    tiny16.predict(batch[:1])  # warm up every lazy allocation
    tracemalloc.start()
    try:
        tiny16.predict(batch)
        _, peak_contiguous = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        tiny16.predict(batch[:, :, ::-1])  # strided: must be copied once
        _, peak_strided = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_contiguous < batch.nbytes / 8 < batch.nbytes <= peak_strided


def test_topk():
    s = np.array([0.1, 0.5, 0.2, 0.5, np.nan, 0.05], np.float32)
    top = imgclass.topk(s, 4, labels=list("abcdef"))
    assert [(p.index, p.label) for p in top] == [(1, "b"), (3, "d"), (2, "c"), (0, "a")]
    assert [p.index for p in imgclass.topk(s, 10)] == [1, 3, 2, 0, 5, 4]
    rows = imgclass.topk(np.stack([s, s[::-1]]), 1)
    assert [r[0].index for r in rows] == [1, 2]  # ties to the lower index
    with pytest.raises(ValueError):
        imgclass.topk(s, 0)
    with pytest.raises(ValueError):
        imgclass.topk(np.zeros((2, 2, 2)), 1)
    with pytest.raises(ValueError, match="labels"):
        imgclass.topk(s, 1, labels=["x"])
