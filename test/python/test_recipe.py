"""One model, one answer: the binding feeds a model by the recipe it carries
(imgclass.json, written by tools/export_model.py), through every door:
Model.classify, Model.preprocess + predict, Pipeline.map,
imgclass.torch.Transform / ImageFolder.from_model and imgclass.dask; and a
field override changes only that field, everywhere alike.

The model (conftest.recipe_model) is far from ImageNet in every field:
Resize(320, bicubic), CenterCrop(300), its own mean and std. Its forward
pass only samples its input (test/python/probe_net.py), so it gives the
same bits whatever the batch size: every comparison below is bit for bit,
pipeline batches (whose size depends on timing) included."""
import ctypes
import os

import numpy as np
import pytest
import torch
from PIL import Image

import imgclass
from conftest import (PROBE_CLASSES, PROBE_RECIPE, export_probe, pixels, reference,
                      same_bits, sample_photos)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Two sample photos when the shared set is here, and a generated JPEG
    of odd size (always: the tests never depend on the photos alone)."""
    d = tmp_path_factory.mktemp("recipe_inputs")
    p = str(d / "generated.jpg")
    Image.fromarray(pixels(517, 389, 3)).save(p, quality=92)
    return sample_photos()[:2] + [p]


def torch_tensors(files, **recipe):
    """torchvision on Pillow with this recipe: the model's input tensors."""
    r = dict(PROBE_RECIPE, **recipe)
    return np.stack([reference(f, r["resize"], r["crop"], r["interpolation"], r["mean"],
                               r["std"]) for f in files])


def torch_scores(model_path, batch):
    """torch's own answer: the TorchScript model on torchvision's tensors,
    softmax, as the C engine applies it."""
    net = torch.jit.load(model_path).eval()
    with torch.inference_mode():
        return torch.softmax(net(torch.from_numpy(batch)), 1).numpy()


def scores(results):
    assert [r.error for r in results] == [None] * len(results)
    return np.stack([r.scores for r in results])


def test_the_recipe_is_the_default(recipe_model, inputs):
    with imgclass.Model(recipe_model) as m:
        o = m.preprocess_options
        assert (o.resize, o.crop, o.interpolation) == (320, 300, "bicubic")
        # mean and std exactly as C holds them: float32
        assert o.mean == tuple(float(np.float32(v)) for v in PROBE_RECIPE["mean"])
        assert o.std == tuple(float(np.float32(v)) for v in PROBE_RECIPE["std"])
        assert m.input_size == (3, 300, 300) and m.classes == PROBE_CLASSES
        assert m.labels[:2] == ["p0", "p1"]  # the recipe's labels
        assert m.recipe["resize_size"] == 320 and m.recipe["interpolation"] == "bicubic"
        want_x = torch_tensors(inputs)
        want = torch_scores(recipe_model, want_x)
        # One image through the model gives the same bits as three: the
        # probe model is batch-invariant, so bit equality is fair below.
        assert same_bits(torch_scores(recipe_model, want_x[:1]), want[:1])

        assert same_bits(m.preprocess(inputs), want_x)
        assert same_bits(scores(m.classify(inputs, topk=3)), want)
        assert same_bits(m.predict(m.preprocess(inputs)), want)
        with m.pipeline(batch=2, max_delay_ms=1) as pipe:
            assert same_bits(scores(list(pipe.map(inputs))), want)
        r = m.classify(inputs[0], topk=2)[0]
        assert r.top[0].label == f"p{r.top[0].index}"

        # The check can fail: the ImageNet recipe gives another answer.
        imagenet = torch_scores(recipe_model, torch_tensors(
            inputs, resize=256, crop=224, interpolation="bilinear",
            mean=imgclass.IMAGENET_MEAN, std=imgclass.IMAGENET_STD))
        assert not np.array_equal(imagenet, want)


def test_a_full_preprocess_options_replaces_the_recipe(recipe_model, inputs):
    with imgclass.Model(recipe_model, preprocess=imgclass.PreprocessOptions()) as m:
        assert m.input_size == (3, 224, 224)
        assert m.preprocess_options == imgclass.PreprocessOptions()
        want = torch_scores(recipe_model, torch_tensors(
            inputs, resize=256, crop=224, interpolation="bilinear",
            mean=imgclass.IMAGENET_MEAN, std=imgclass.IMAGENET_STD))
        assert same_bits(scores(m.classify(inputs)), want)


def test_a_crop_override_keeps_the_other_fields(recipe_model, inputs):
    want = torch_scores(recipe_model, torch_tensors(inputs, crop=200))
    with imgclass.Model(recipe_model) as plain:
        base = plain.preprocess_options
        assert not np.array_equal(scores(plain.classify(inputs)), want)
    for kw in ({"preprocess": {"crop": 200}}, {"input_size": 200},
               {"preprocess": {"crop": 200}, "input_size": (200, 200)}):
        with imgclass.Model(recipe_model, **kw) as m:
            assert m.preprocess_options == base.replace(crop=200), kw
            assert m.input_size == (3, 200, 200), kw  # loaded at the new size
            assert same_bits(scores(m.classify(inputs)), want), kw
            with m.pipeline(batch=3) as pipe:
                assert same_bits(scores(list(pipe.map(inputs))), want), kw
    # Several fields at once, the rest from the recipe.
    with imgclass.Model(recipe_model, preprocess={"interpolation": "bilinear",
                                                  "mean": [0.5, 0.5, 0.5]}) as m:
        assert m.input_size == (3, 300, 300)
        assert same_bits(scores(m.classify(inputs)), torch_scores(
            recipe_model, torch_tensors(inputs, interpolation="bilinear",
                                        mean=(0.5, 0.5, 0.5))))


def test_an_override_that_changes_the_size_reloads(tmp_path, inputs):
    """A recipe without crop (exact resize 240 x 200): a resize override
    fixes the size only once the recipe is known, so the model is loaded
    at the recipe's size first, then again at the override's."""
    path = export_probe(tmp_path / "exact.pt", "--resize", "240x200", "--crop", "none",
                        "--interpolation", "bicubic")
    with imgclass.Model(path) as m:
        assert m.input_size == (3, 200, 240) and m.preprocess_options.crop is None
    with imgclass.Model(path, preprocess={"resize": (150, 170)}) as m:
        assert m.input_size == (3, 150, 170)
        want = torch_scores(path, torch_tensors(inputs, resize=(150, 170), crop=None,
                                                mean=imgclass.IMAGENET_MEAN,
                                                std=imgclass.IMAGENET_STD))
        assert same_bits(scores(m.classify(inputs)), want)


def test_models_without_a_recipe_keep_their_defaults(models):
    with imgclass.Model(os.path.join(models, "tiny16.pt")) as m:
        assert m.recipe is None and m.input_size == (3, 224, 224)
        assert m.preprocess_options.replace(mean=imgclass.IMAGENET_MEAN,
                                            std=imgclass.IMAGENET_STD) == \
            imgclass.PreprocessOptions()
    with imgclass.Model(os.path.join(models, "tiny16.pt"), input_size=16) as m:
        o = m.preprocess_options  # the ImageNet recipe scaled to 16, as before
        assert (o.resize, o.crop, m.input_size) == (18, 16, (3, 16, 16))
    with imgclass.Model(os.path.join(models, "tiny16.pt"), input_size=16,
                        preprocess={"interpolation": "bicubic"}) as m:
        o = m.preprocess_options
        assert (o.resize, o.crop, o.interpolation) == (18, 16, "bicubic")


def test_from_c_round_trips_exactly():
    for kw in ({}, {"resize": (300, 200), "crop": None}, {"resize": None, "crop": (12, 10)},
               {"mean": (0.1, 0.2, 0.3), "std": (0.7, 0.1, 1e-3), "interpolation": "bicubic",
                "fast": True}):
        c, d = imgclass.PreprocessOptions(**kw).to_c()
        again = imgclass.PreprocessOptions._from_c(c, d)
        c2, _ = again.to_c()
        assert ctypes.string_at(ctypes.addressof(c), ctypes.sizeof(c)) == \
            ctypes.string_at(ctypes.addressof(c2), ctypes.sizeof(c2)), kw
        assert again == imgclass.PreprocessOptions._from_c(c2), kw
        assert all(float(np.float32(v)) == v for v in again.mean + again.std)


def test_override_mistakes(recipe_model):
    with pytest.raises(TypeError, match="'cropp'"):
        imgclass.Model(recipe_model, preprocess={"cropp": 200})
    with pytest.raises(TypeError, match="PreprocessOptions"):
        imgclass.Model(recipe_model, preprocess=[("crop", 200)])
    with pytest.raises(ValueError, match="disagrees"):
        imgclass.Model(recipe_model, input_size=100, preprocess={"crop": 200})
    with pytest.raises(ValueError, match="probe.pt.*without crop"):
        imgclass.Model(recipe_model, preprocess={"crop": None})
    with pytest.raises(ValueError, match="probe.pt.*interpolation"):
        imgclass.Model(recipe_model, preprocess={"interpolation": "lanczos"})


def test_torch_transform_and_image_folder_from_model(recipe_model, inputs, tmp_path):
    from imgclass.torch import ImageFolder, Transform
    want_x = torch_tensors(inputs)
    with imgclass.Model(recipe_model) as m:
        for t in (Transform.from_model(recipe_model), Transform.from_model(m)):
            assert t.size == (300, 300)
            x = torch.stack([t(f) for f in inputs])
            assert same_bits(x.numpy(), want_x)
            assert same_bits(torch_scores(recipe_model, x.numpy()),
                             scores(m.classify(inputs)))
        with pytest.raises(TypeError, match="input_size"):
            Transform.from_model(m, input_size=200)
    t = Transform.from_model(recipe_model, {"crop": 200})
    assert same_bits(np.stack([t(f).numpy() for f in inputs]), torch_tensors(inputs, crop=200))
    for i, f in enumerate(inputs):
        (tmp_path / f"c{i}").mkdir()
        Image.open(f).convert("RGB").save(tmp_path / f"c{i}" / "x.png")
    data = ImageFolder.from_model(str(tmp_path), recipe_model)
    assert [y for _, y in data] == list(range(len(inputs)))
    assert same_bits(np.stack([x.numpy() for x, _ in data]),
                     torch_tensors([str(tmp_path / f"c{i}" / "x.png")
                                    for i in range(len(inputs))]))


def test_dask_uses_the_recipe(recipe_model, inputs):
    import imgclass.dask as icd  # the project's own module: an ImportError fails
    distributed = pytest.importorskip("distributed", reason="python3-distributed is not installed")

    def dask_scores(**kw):
        bag = icd.classify_paths(inputs, recipe_model, topk=PROBE_CLASSES, batch=2, **kw)
        out = []
        for rec in bag.compute():
            assert rec["error"] is None, rec
            s = np.zeros(PROBE_CLASSES, np.float32)
            for index, label, score in rec["top"]:
                assert label == f"p{index}"
                s[index] = score  # a float32 as a Python float: exact
            out.append(s)
        return np.stack(out)

    with icd.local_cluster(1, 1) as c, distributed.Client(c):
        assert same_bits(dask_scores(), torch_scores(recipe_model, torch_tensors(inputs)))
        assert same_bits(dask_scores(preprocess={"crop": 200}),
                         torch_scores(recipe_model, torch_tensors(inputs, crop=200)))
    assert icd.job_key(inputs, recipe_model, 8, 5, "jsonl") != \
        icd.job_key(inputs, recipe_model, 8, 5, "jsonl", preprocess={"crop": 200})
