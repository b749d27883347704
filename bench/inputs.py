"""The inputs the benchmarks share, made one way so that their figures
compare: the photos (the project's sample set when it sits beside the
repository, else generated JPEGs) and the model (ResNet-18 with seeded
random weights, exported by tools/export_model.py)."""
import glob
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(REPO, "..", "shared", "images", "imagenet-sample-100")


def generate_images(folder, count=40):
    """A stand-in image set when the sample photos are absent: JPEGs of the
    sizes ImageNet photos commonly have."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(1)
    sizes = [(500, 375), (375, 500), (500, 333), (640, 480), (1024, 768)]
    for i in range(count):
        w, h = sizes[i % len(sizes)]
        y, x = np.mgrid[0:h, 0:w]
        img = np.stack([128 + 100 * np.sin(x / (20 + i) + y / 31), x * 255 / (w - 1),
                        y * 255 / (h - 1)], -1)
        img = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(os.path.join(folder, "g%02d.jpg" % i), quality=90)


def photo_folder(tmp, folder=None, count=40):
    """(folder, files, what): `folder` when given and present, else the
    sample photos, else `count` JPEGs generated into tmp/images; `what`
    says which, for the report."""
    for candidate in ([folder] if folder else []) + [SAMPLES]:
        if os.path.isdir(candidate) and os.listdir(candidate):
            real = os.path.realpath(candidate)
            files = sorted(glob.glob(os.path.join(real, "*")))
            name = ("the sample ImageNet photos" if candidate == SAMPLES
                    else os.path.basename(real))
            return real, files, "%d photos (%s)" % (len(files), name)
    out = os.path.join(tmp, "images")
    os.makedirs(out, exist_ok=True)
    generate_images(out, count)
    files = sorted(glob.glob(os.path.join(out, "*")))
    return out, files, ("%d generated JPEGs (500x375 to 1024x768; the sample photos were absent)"
                        % len(files))


def export_model(path, extra=(), py=sys.executable, timeout=900):
    """Exports ResNet-18 with seeded random weights (plus `extra` options of
    tools/export_model.py) to `path`; returns the exporter's stderr (its
    report). Raises RuntimeError with that report when it fails, and
    subprocess.TimeoutExpired after `timeout` s (a bench must end)."""
    cmd = [py, os.path.join(REPO, "tools", "export_model.py"), "--random-seed", "0"]
    p = subprocess.run(cmd + list(extra) + [path], capture_output=True, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("tools/export_model.py failed: " + p.stderr[-2000:])
    return p.stderr
