"""Drop-ins for PyTorch data loading (needs torch; torchvision for the
dataset).

``Transform`` replaces torchvision's eval transform::

    Compose([Resize(256), CenterCrop(224), ToTensor(), Normalize(mean, std)])

and returns the same float32 tensor bit for bit, from a path (decoded by
imgclass: faster, only the region the crop keeps is decoded), encoded bytes,
a uint8 array, a PIL image or an :class:`imgclass.YUVFrame`. ``ImageFolder``
is torchvision's ImageFolder with imgclass decoding. Both pickle, so
DataLoader workers can use them.

``Transform.from_model`` and ``ImageFolder.from_model`` preprocess as a
model does: its own recipe (the ``imgclass.json`` it carries), with the
same field overrides as :class:`imgclass.Model`::

    from imgclass.torch import ImageFolder
    data = ImageFolder.from_model("val/", "model.pt")          # the model's recipe
    data = ImageFolder.from_model("val/", model, {"crop": 200})  # one field changed
    loader = torch.utils.data.DataLoader(data, batch_size=64, num_workers=4)
"""
import os
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from ._model import Model
from ._preprocess import (DEFAULT_MAX_PIXELS, IMAGENET_MEAN, IMAGENET_STD, PreprocessOptions,
                          check_overrides, preprocess, resolve)

__all__ = ["Transform", "ImageFolder", "model_options", "path_loader"]


class Transform:
    """``Resize(resize)``, ``CenterCrop(crop)``, ``ToTensor()``,
    ``Normalize(mean, std)`` in one call, returning a (3, H, W) float32
    ``torch.Tensor``. ``resize`` is an int (shorter side) or (h, w), as
    torchvision's Resize; ``crop`` an int or (h, w); ``interpolation``
    "bilinear" (torchvision's default) or "bicubic". Bad images raise
    :class:`imgclass.Error` naming the file. :meth:`from_model` takes all of
    it from a model's recipe instead."""

    def __init__(self, resize=256, crop=224, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD, *, fast: bool = False,
                 max_pixels: int = DEFAULT_MAX_PIXELS, bgr: bool = False,
                 interpolation: str = "bilinear", exif_transpose: bool = False):
        self._setup(PreprocessOptions(resize, crop, tuple(mean), tuple(std), fast, max_pixels,
                                      interpolation, exif_transpose), bgr)

    def _setup(self, options, bgr):
        self.options = options
        self.options.to_c()  # validate now, not in a worker
        self.size = self.options.output_size()
        self.bgr = bgr

    @classmethod
    def from_options(cls, options: PreprocessOptions, *, bgr: bool = False) -> "Transform":
        """The transform of a :class:`imgclass.PreprocessOptions`, every field."""
        if not isinstance(options, PreprocessOptions):
            raise TypeError("options must be an imgclass.PreprocessOptions")
        t = cls.__new__(cls)
        t._setup(options, bgr)
        return t

    @classmethod
    def from_model(cls, model, preprocess=None, *, input_size=None,
                   bgr: bool = False) -> "Transform":
        """The transform a model's inputs get: ``model`` is an
        :class:`imgclass.Model` (its :attr:`~imgclass.Model.preprocess_options`,
        overrides given to it included) or the path of a model file, whose
        recipe is read (the model is loaded once, without warm-up, and
        freed). ``preprocess`` and ``input_size`` override it as they do
        for :class:`imgclass.Model`: a dict changes the named fields
        (``{"crop": 200}``), a PreprocessOptions replaces every field;
        ``input_size`` only with a path (an open Model has its size)."""
        return cls.from_options(model_options(model, preprocess, input_size), bgr=bgr)

    def __call__(self, image) -> torch.Tensor:
        out = np.empty((1, 3) + self.size, dtype=np.float32)
        preprocess([image], options=self.options, out=out, threads=1, bgr=self.bgr)
        return torch.from_numpy(out[0])

    def __repr__(self):
        o = self.options
        return (f"imgclass.torch.Transform(resize={o.resize!r}, crop={o.crop!r}, "
                f"mean={o.mean!r}, std={o.std!r}, fast={o.fast!r}, "
                f"interpolation={o.interpolation!r})")


def model_options(model, preprocess=None, input_size=None) -> PreprocessOptions:
    """The preprocessing of a model (an imgclass.Model or a model file's
    path) with the overrides of :class:`imgclass.Model` applied."""
    if isinstance(model, Model):
        if input_size is not None:
            raise TypeError("input_size is for a model file; an open Model has its size "
                            "(override it with preprocess={'crop': N})")
        return resolve(model.preprocess_options, check_overrides(preprocess))
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be an imgclass.Model or a model file's path, got "
                        f"{type(model).__name__}")
    with Model(model, warmup_runs=0, optimize=0, preprocess=preprocess,
               input_size=input_size) as m:
        return m.preprocess_options


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

    @classmethod
    def from_model(cls, root: str, model, preprocess=None, *, input_size=None,
                   target_transform: Optional[Callable] = None,
                   is_valid_file: Optional[Callable[[str], bool]] = None) -> "ImageFolder":
        """The dataset preprocessed as ``model`` takes its inputs:
        ``Transform.from_model(model, preprocess, input_size=...)``."""
        return cls(root, Transform.from_model(model, preprocess, input_size=input_size),
                   target_transform=target_transform, is_valid_file=is_valid_file)
