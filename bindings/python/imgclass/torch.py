"""Drop-ins for PyTorch data loading (needs torch; torchvision for the
dataset).

``Transform`` replaces torchvision's eval transform::

    Compose([Resize(256), CenterCrop(224), ToTensor(), Normalize(mean, std)])

and returns the same float32 tensor bit for bit, from a path (decoded by
imgclass: faster, only the region the crop keeps is decoded), encoded bytes,
a uint8 array or a PIL image. ``ImageFolder`` is torchvision's ImageFolder
with imgclass decoding. Both pickle, so DataLoader workers can use them.

    from imgclass.torch import ImageFolder
    loader = torch.utils.data.DataLoader(ImageFolder("val/"), batch_size=64,
                                         num_workers=4)
"""
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from ._preprocess import (DEFAULT_MAX_PIXELS, IMAGENET_MEAN, IMAGENET_STD, PreprocessOptions,
                          preprocess)

__all__ = ["Transform", "ImageFolder", "path_loader"]


class Transform:
    """``Resize(resize)``, ``CenterCrop(crop)``, ``ToTensor()``,
    ``Normalize(mean, std)`` in one call, returning a (3, H, W) float32
    ``torch.Tensor``. ``resize`` is an int (shorter side) or (h, w), as
    torchvision's Resize; ``crop`` an int or (h, w). Bad images raise
    :class:`imgclass.Error` naming the file."""

    def __init__(self, resize=256, crop=224, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD, *, fast: bool = False,
                 max_pixels: int = DEFAULT_MAX_PIXELS, bgr: bool = False):
        self.options = PreprocessOptions(resize, crop, tuple(mean), tuple(std), fast, max_pixels)
        self.options.to_c()  # validate now, not in a worker
        self.size = self.options.output_size()
        self.bgr = bgr

    def __call__(self, image) -> torch.Tensor:
        out = np.empty((1, 3) + self.size, dtype=np.float32)
        preprocess([image], options=self.options, out=out, threads=1, bgr=self.bgr)
        return torch.from_numpy(out[0])

    def __repr__(self):
        o = self.options
        return (f"imgclass.torch.Transform(resize={o.resize!r}, crop={o.crop!r}, "
                f"mean={o.mean!r}, std={o.std!r}, fast={o.fast!r})")


def path_loader(path):
    """The dataset's loader: hands the path itself to the Transform, which
    decodes it (a module-level function, so it pickles)."""
    return path


def _image_folder_base():
    from torchvision.datasets import DatasetFolder
    return DatasetFolder


class ImageFolder(_image_folder_base()):
    """torchvision's ``ImageFolder`` (root/class_x/xxx.jpg, classes sorted,
    the same samples and targets), decoding and preprocessing with imgclass:
    ``dataset[i]`` is ``(tensor, class_index)``. ``transform`` defaults to
    ``Transform()`` and receives the file's path."""

    def __init__(self, root: str, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None,
                 is_valid_file: Optional[Callable[[str], bool]] = None):
        from torchvision.datasets.folder import IMG_EXTENSIONS
        super().__init__(root, path_loader,
                         IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform if transform is not None else Transform(),
                         target_transform=target_transform, is_valid_file=is_valid_file)
        self.imgs = self.samples
