"""imgclass.torch: the Transform and the ImageFolder dataset against
torchvision, alone and inside a DataLoader with workers."""
import os

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets
from torchvision import transforms as T

import imgclass
import imgclass.torch as it  # the project's own module: an ImportError fails
from conftest import pixels, sample_photos

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def reference_transform(resize=256, crop=224):
    return T.Compose([T.Resize(resize), T.CenterCrop(crop), T.ToTensor(), T.Normalize(MEAN, STD)])


def bits_equal(a, b):
    return a.dtype == b.dtype == torch.float32 and a.shape == b.shape and \
        torch.equal(a.contiguous().view(torch.int32), b.contiguous().view(torch.int32))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """root/class/file in ImageFolder's layout, plus a file it must skip."""
    root = tmp_path_factory.mktemp("folder")
    for c, cls in enumerate(["cat", "dog", "eel"]):
        (root / cls).mkdir()
        for i in range(5):
            w, h = 200 + 37 * i, 150 + 29 * c
            img = Image.fromarray(pixels(w, h, 10 * c + i))
            img.save(root / cls / f"{i}.{'jpg' if i % 2 else 'png'}")
    (root / "dog" / "notes.txt").write_text("not an image")
    return str(root)


def test_transform_bit_equal_to_torchvision(folder):
    files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(folder) for f in fs
                   if not f.endswith(".txt"))
    files += sample_photos()[:20]
    for resize, crop in [(256, 224), (160, 128), ((100, 120), 96)]:
        ours, ref = it.Transform(resize, crop), reference_transform(resize, crop)
        for f in files:
            want = ref(Image.open(f).convert("RGB"))
            assert bits_equal(ours(f), want), f
            assert bits_equal(ours(Image.open(f)), want), f


def test_transform_errors_and_repr(folder):
    t = it.Transform()
    with pytest.raises(imgclass.IoError, match="missing.jpg"):
        t(os.path.join(folder, "missing.jpg"))
    with pytest.raises(ValueError):
        it.Transform(crop=None)
    assert "resize=256" in repr(t)


def test_image_folder_matches_torchvision(folder):
    ours = it.ImageFolder(folder)
    ref = datasets.ImageFolder(folder, transform=reference_transform())
    assert ours.classes == ref.classes == ["cat", "dog", "eel"]
    assert ours.samples == ref.samples and ours.targets == ref.targets
    assert len(ours) == 15
    for i in range(len(ours)):
        (x, y), (rx, ry) = ours[i], ref[i]
        assert y == ry and bits_equal(x, rx)


def test_dataloader_with_workers(folder):
    ours = torch.utils.data.DataLoader(it.ImageFolder(folder), batch_size=4, num_workers=2)
    ref = torch.utils.data.DataLoader(datasets.ImageFolder(folder, transform=reference_transform()),
                                      batch_size=4, num_workers=2)
    n = 0
    for (x, y), (rx, ry) in zip(ours, ref):
        assert torch.equal(y, ry) and bits_equal(x, rx)
        n += len(y)
    assert n == 15
