"""Model(precision=...): float32 by default; "bf16" close to float32 with the
same top-1 where the CPU has native bf16 (avx512_bf16 or amx_bf16 in
/proc/cpuinfo), UnsupportedError naming the model and the feature where it
has not (both branches assert; the one taken is printed); an int8 model
stays int8; a bad value raises before anything loads."""
import os

import numpy as np
import pytest

import imgclass
from cpu_flags import cpu_has_bf16  # test/integration/helpers (conftest.py)


def tiny_input(models):
    return np.fromfile(os.path.join(models, "tiny_input.f32"), dtype=np.float32).reshape(4, 3, 8, 8)


def tiny_probs(models):
    return np.fromfile(os.path.join(models, "tiny_probs.f32"), dtype=np.float32).reshape(4, 5)


def test_default_is_float32(models):
    with imgclass.Model(os.path.join(models, "tiny.pt"), input_size=8) as m:
        assert m.precision == "float32"
        assert np.allclose(m.predict(tiny_input(models)), tiny_probs(models), atol=1e-5)


def test_bf16(models, capsys):
    path = os.path.join(models, "tiny.pt")
    if not cpu_has_bf16():
        with capsys.disabled():
            print("\nbf16 branch: this CPU lacks native bf16: refusal checked")
        with pytest.raises(imgclass.UnsupportedError) as e:
            imgclass.Model(path, input_size=8, precision="bf16")
        for word in (path, "precision bf16", "avx512_bf16"):
            assert word in str(e.value)
        return
    with capsys.disabled():
        print("\nbf16 branch: native bf16: compared with float32")
    with imgclass.Model(path, input_size=8, precision="bf16") as m:
        assert m.precision == "bf16"
        out = m.predict(tiny_input(models))
    ref = tiny_probs(models)
    # The bound test/unit/test_precision.c explains: ~5 roundings to bf16.
    diff = np.abs(out - ref).max()
    assert diff <= 5e-3, diff
    assert diff >= 2e-5, f"within {diff} of float32: bf16 did not apply"
    assert (out.argmax(1) == ref.argmax(1)).all()


def test_bf16_classify_top1(models, tmp_path):
    """classify (the pipeline path) gives float32's top-1 on images whose
    top-1 margin (>= 0.02) is far above bf16's error."""
    from PIL import Image
    paths = []
    for i, c in enumerate([(255, 0, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)]):
        paths.append(str(tmp_path / f"c{i}.png"))
        Image.new("RGB", (10, 10), c).save(paths[-1])
    pp = imgclass.PreprocessOptions(resize=(8, 8), crop=None)
    path = os.path.join(models, "tiny.pt")
    if not cpu_has_bf16():
        with pytest.raises(imgclass.UnsupportedError, match="avx512_bf16"):
            imgclass.Model(path, preprocess=pp, precision="bf16")
        return
    with imgclass.Model(path, preprocess=pp) as f32, \
            imgclass.Model(path, preprocess=pp, precision="bf16") as bf16:
        a, b = f32.classify(paths, topk=1), bf16.classify(paths, topk=1)
    assert all(r.ok for r in a + b)
    assert [r.top[0].index for r in a] == [r.top[0].index for r in b]
    assert len({r.top[0].index for r in a}) >= 2


def test_int8_stays_int8(models):
    path = os.path.join(models, "tiny_int8.pt")
    if not os.path.exists(path):
        pytest.skip("this torch has no onednn: make_test_models.py made no int8 model")
    with imgclass.Model(path, input_size=8, precision="bf16") as m:
        assert m.precision == "int8"
        assert m.quantized


@pytest.mark.parametrize("bad", ["fp16", "BF16", "", "int8"])
def test_bad_string(models, bad):
    with pytest.raises(ValueError, match="precision must be 'float32' or 'bf16'"):
        imgclass.Model(os.path.join(models, "tiny.pt"), input_size=8, precision=bad)


def test_not_a_string(models):
    with pytest.raises(TypeError, match="precision must be a str"):
        imgclass.Model(os.path.join(models, "tiny.pt"), input_size=8, precision=1)
