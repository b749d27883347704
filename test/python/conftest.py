"""Shared fixtures of the Python binding's tests (test/python/run.sh runs
them with the repository's bindings/python on sys.path and IMGCLASS_LIBRARY
pointing at the build's libimgclass.so)."""
import io
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
sys.path.insert(0, os.path.join(REPO, "test", "parity"))
# cpu_flags.py: what the CPU offers, for checks whose answer depends on it.
sys.path.insert(0, os.path.join(REPO, "test", "integration", "helpers"))

import sample_photos as _photos  # noqa: E402  (test/parity, on the path above)


def build_dir():
    return os.path.join(REPO, os.environ.get("BUILD", "build"))


@pytest.fixture(scope="session")
def models():
    """build/test-models: tiny TorchScript models from test/models/make_test_models.py."""
    d = os.environ.get("IMGCLASS_TEST_MODELS") or os.path.join(build_dir(), "test-models")
    if not os.path.exists(os.path.join(d, "tiny16.pt")):
        pytest.fail(f"{d}/tiny16.pt missing: run make tests")
    return d


@pytest.fixture(scope="session")
def tiny16(models):
    """The 3x16x16 -> 10 classes model, preprocessed as Resize(18), CenterCrop(16)."""
    import imgclass
    labels = [f"class {i}" for i in range(10)]
    with imgclass.Model(os.path.join(models, "tiny16.pt"), labels=labels, input_size=16) as m:
        yield m


#: The recipe of the `recipe_model` fixture: far from ImageNet's in every field.
PROBE_RECIPE = {"resize": 320, "crop": 300, "interpolation": "bicubic",
                "mean": (0.3, 0.6, 0.2), "std": (0.5, 0.125, 0.35)}
PROBE_CLASSES = 192  # 3 channels x an 8 x 8 grid (test/python/probe_net.py)


def export_probe(path, *flags):
    """test/python/probe_net.py's ProbeNet exported by tools/export_model.py
    with these recipe flags."""
    r = subprocess.run([sys.executable, os.path.join(REPO, "tools", "export_model.py"),
                        "--module", os.path.join(HERE, "probe_net.py") + ":ProbeNet",
                        "--random-seed", "0", *flags, str(path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"export_model.py failed: {r.stderr}"
    return str(path)


@pytest.fixture(scope="session")
def recipe_model(tmp_path_factory):
    """A model carrying the recipe PROBE_RECIPE and labels "p0".."p191",
    made by tools/export_model.py; its scores are softmax of its
    preprocessed input sampled at a fixed grid (probe_net.py), so they
    change with every preprocessing field and do not depend on the batch."""
    d = tmp_path_factory.mktemp("recipe_model")
    names = d / "names.txt"
    names.write_text("".join(f"p{i}\n" for i in range(PROBE_CLASSES)))
    r = PROBE_RECIPE
    return export_probe(d / "probe.pt", "--resize", str(r["resize"]), "--crop", str(r["crop"]),
                        "--interpolation", r["interpolation"],
                        "--mean", ",".join(map(str, r["mean"])),
                        "--std", ",".join(map(str, r["std"])), "--class-names", str(names))


def pixels(w, h, seed=0):
    """Smooth gradients plus noise: every resampling weight matters."""
    from preprocess_parity import content
    return content(w, h, seed)


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    """A few generated image files of several formats and shapes."""
    from PIL import Image
    d = tmp_path_factory.mktemp("images")
    out = {}
    for name, (w, h), kw in [("a.jpg", (500, 375), {"quality": 90}),
                             ("b.png", (333, 517), {}),
                             ("c.jpg", (97, 61), {"quality": 85, "progressive": True}),
                             ("d.bmp", (40, 30), {})]:
        p = str(d / name)
        Image.fromarray(pixels(w, h, len(out))).save(p, **kw)
        out[name] = p
    p = str(d / "gray.png")
    Image.fromarray(pixels(64, 48, 9)).convert("L").save(p)
    out["gray.png"] = p
    with open(out["a.jpg"], "rb") as f:
        data = f.read()
    p = str(d / "truncated.jpg")
    with open(p, "wb") as f:
        f.write(data[: len(data) // 2])
    out["truncated.jpg"] = p
    p = str(d / "garbage.jpg")
    with open(p, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 4)
    out["garbage.jpg"] = p
    return out


def sample_photos():
    """The sample photos (test/parity/sample_photos.py); [] when absent, a
    test failure instead when IMGCLASS_REQUIRE_PHOTOS=1 (CI), so no test
    quietly checks fewer photos than CI promised."""
    photos = _photos.photos()
    if not photos and _photos.required():
        pytest.fail("IMGCLASS_REQUIRE_PHOTOS=1 but " + _photos.absent_message())
    return photos


def encode(img, fmt="PNG", **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def reference(path_or_image, resize=256, crop=224, interpolation="bilinear",
              mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)):
    """torchvision + Pillow: the float32 tensor imgclass must reproduce."""
    from PIL import Image
    from torchvision import transforms as T
    img = path_or_image
    if not isinstance(img, Image.Image):
        img = Image.open(img)
    mode = T.InterpolationMode(interpolation)
    steps = [T.Resize(resize, interpolation=mode)] if resize is not None else []
    if crop is not None:
        steps.append(T.CenterCrop(crop))
    steps += [T.ToTensor(), T.Normalize(list(mean), list(std))]
    return T.Compose(steps)(img.convert("RGB")).numpy()


def same_bits(a, b):
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def pytest_terminal_summary(terminalreporter):
    """Every skip with its reason, appended to the file IMGCLASS_SKIP_LOG
    names: test/run_all.sh counts and lists them in its summary, so a
    skipped test never reads as a passed one (run.sh's -rs prints them
    here too)."""
    log = os.environ.get("IMGCLASS_SKIP_LOG")
    if not log:
        return
    with open(log, "a") as f:
        for rep in terminalreporter.stats.get("skipped", []):
            reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
            if reason.startswith("Skipped: "):
                reason = reason[len("Skipped: "):]
            f.write("%s: %s\n" % (rep.nodeid, reason.replace("\n", " ")))
