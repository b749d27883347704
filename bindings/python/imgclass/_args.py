"""Argument checks shared by Model, Pipeline and preprocess: ints, sizes,
topk and the class filter. A leaf module (it imports only _lib), so any
module may use it without an import circle."""
import ctypes

import numpy as np

from ._lib import lib


def _int_arg(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _topk_arg(value):
    """topk: an int >= 1, or -1 / "all" for every class."""
    if value == "all" or (not isinstance(value, bool) and isinstance(value, (int, np.integer))
                          and value == -1):
        return -1
    return _int_arg(value, "topk", 1)


def _pair(value, name):
    """(height, width) from an int or an (h, w) pair."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or an (height, width) pair, not a bool")
    if isinstance(value, (int, np.integer)):
        h = w = int(value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        h, w = int(value[0]), int(value[1])
    else:
        raise TypeError(f"{name} must be an int or an (height, width) pair, got {value!r}")
    if h < 1 or w < 1 or h > 16384 or w > 16384:
        raise ValueError(f"{name} = {value!r}: sizes must be between 1 and 16384")
    return h, w


class _Filter:
    """threshold / allow / deny as an imgclass_filter, with the C arrays it
    points to kept alive as long as this object."""

    def __init__(self, threshold=None, allow=None, deny=None):
        self.c = lib.imgclass_filter_default()
        if threshold is not None:
            if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) \
                    or threshold != threshold:
                raise ValueError(f"threshold must be a number, got {threshold!r}")
            self.c.score_threshold = float(threshold)
        if allow is not None and deny is not None:
            raise ValueError("allow and deny exclude each other: give one of them")
        self._keep = []
        for name, classes in (("allow", allow), ("deny", deny)):
            if classes is None:
                continue
            if isinstance(classes, (str, bytes, int)):
                classes = [classes]
            indices, labels = [], []
            for c in classes:
                if isinstance(c, str):
                    labels.append(c.encode("utf-8"))
                elif not isinstance(c, bool) and isinstance(c, (int, np.integer)):
                    indices.append(int(c))
                else:
                    raise TypeError(f"{name}: a class is an int index or a str label, got {c!r}")
            if indices:
                arr = (ctypes.c_int * len(indices))(*indices)
                self._keep.append(arr)
                setattr(self.c, f"{name}_indices", arr)
                setattr(self.c, f"{name}_index_count", len(indices))
            if labels:
                arr = (ctypes.c_char_p * len(labels))(*labels)
                self._keep.append(arr)
                setattr(self.c, f"{name}_labels", arr)
                setattr(self.c, f"{name}_label_count", len(labels))
