"""Result and Prediction: what classify and the pipeline hand back. A leaf
module (no import of _model or _pipeline), so both may build them."""
from typing import List, NamedTuple, Optional

import numpy as np

from . import _inputs
from ._errors import make_error


class Prediction(NamedTuple):
    """One class of a result: its index, its label (None without labels)
    and its score (a probability, or a logit with softmax=False)."""
    index: int
    label: Optional[str]
    score: float


class Result:
    """The outcome of one input: ``top`` (best first) and ``scores`` (all
    classes, a float32 array) when it succeeded; ``error`` (the library's
    message) and ``status`` (the C status) when it failed, in which case
    ``top`` is empty and ``scores`` None."""

    __slots__ = ("input", "top", "scores", "error", "status")

    def __init__(self, input, top, scores, error=None, status=0):
        self.input = input
        self.top: List[Prediction] = top
        self.scores: Optional[np.ndarray] = scores
        self.error: Optional[str] = error
        self.status: int = status

    @property
    def ok(self) -> bool:
        """True when the input was classified."""
        return self.error is None

    def exception(self):
        """The imgclass.Error this failure maps to, or None on success."""
        return None if self.error is None else make_error(self.status, self.error)

    def __repr__(self):
        what = _inputs.describe(self.input)
        if self.error is not None:
            return f"Result({what!r}, error={self.error!r})"
        best = self.top[0] if self.top else None
        return f"Result({what!r}, top1={best})"
