"""Result filtering from Python: topk=-1, threshold, allow and deny by
index and by label, empty results, conflicts; classify and the pipeline."""
import numpy as np
import pytest

import imgclass
from conftest import pixels


@pytest.fixture(scope="module")
def image():
    return pixels(40, 30, 7)


def test_all_classes_and_threshold(tiny16, image):
    full = tiny16.classify(image, topk=-1)[0]
    assert full.ok and len(full.top) == 10
    assert [p.index for p in tiny16.classify(image, topk="all")[0].top] == \
        [p.index for p in full.top]
    third = full.top[2].score
    at = tiny16.classify(image, topk=-1, threshold=third)[0]
    assert [p.index for p in at.top] == [p.index for p in full.top[:3]]
    above = tiny16.classify(image, topk=-1,
                            threshold=float(np.nextafter(np.float32(third), np.float32(2))))[0]
    assert len(above.top) == 2
    below = tiny16.classify(image, topk=-1,
                            threshold=float(np.nextafter(np.float32(third), np.float32(-1))))[0]
    assert len(below.top) == 3
    empty = tiny16.classify(image, threshold=1.5)[0]
    assert empty.ok and empty.top == [] and empty.scores is not None


def test_allow_and_deny(tiny16, image):
    full = tiny16.classify(image, topk=-1)[0]
    best = full.top[0].index
    allowed = tiny16.classify(image, topk=-1, allow=[9, "class 4"])[0]
    assert sorted(p.index for p in allowed.top) == [4, 9]
    denied = tiny16.classify(image, topk=3, deny=[best, "class 0"])[0]
    assert all(p.index not in (best, 0) for p in denied.top) and len(denied.top) == 3
    assert tiny16.classify(image, allow="class 3")[0].top[0].index == 3
    with tiny16.pipeline(batch=2, topk=-1, deny=[best]) as pipe:
        got = pipe.submit(image).result(timeout=60)
    assert [p.index for p in got.top] == [p.index for p in full.top[1:]]


def test_mistakes(tiny16, image):
    with pytest.raises(ValueError, match="exclude"):
        tiny16.classify(image, allow=[1], deny=[2])
    with pytest.raises(imgclass.InvalidArgumentError, match="platypus"):
        tiny16.classify(image, allow=["platypus"])
    with pytest.raises(imgclass.InvalidArgumentError, match="class 10"):
        tiny16.classify(image, deny=[10])
    with pytest.raises(TypeError):
        tiny16.classify(image, deny=[1.5])
    with pytest.raises(ValueError):
        tiny16.classify(image, threshold=float("nan"))
    with pytest.raises(ValueError):
        tiny16.classify(image, topk=0)
    with pytest.raises(imgclass.InvalidArgumentError, match="platypus"):
        tiny16.pipeline(allow=["platypus"])
