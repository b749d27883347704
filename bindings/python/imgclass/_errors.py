"""The exception hierarchy: one subclass of imgclass.Error per C status."""
from ._lib import lib


class Error(Exception):
    """A failed imgclass call. ``status`` is the C status code (a negative
    int), ``message`` the library's message, naming the file or buffer and
    the reason (``imgclass_last_error()``)."""

    status = 0

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidArgumentError(Error, ValueError):
    """IMGCLASS_ERR_INVALID_ARGUMENT: a bad size, option or argument."""
    status = -1


class OutOfMemoryError(Error, MemoryError):
    """IMGCLASS_ERR_OUT_OF_MEMORY: an allocation failed."""
    status = -2


class IoError(Error, OSError):
    """IMGCLASS_ERR_IO: a file could not be opened or read."""
    status = -3


class UnsupportedError(Error):
    """IMGCLASS_ERR_UNSUPPORTED: a format or feature imgclass does not support."""
    status = -4


class CorruptError(Error):
    """IMGCLASS_ERR_CORRUPT: truncated or malformed data."""
    status = -5


class TooLargeError(Error):
    """IMGCLASS_ERR_TOO_LARGE: over the pixel limit or a size limit."""
    status = -6


class ModelError(Error):
    """IMGCLASS_ERR_MODEL: not a usable model, or wrong shapes."""
    status = -7


class LabelsError(Error):
    """IMGCLASS_ERR_LABELS: labels unreadable, or their count differs from the model's."""
    status = -8


class DeviceError(Error):
    """IMGCLASS_ERR_DEVICE: the requested device is not available."""
    status = -9


class EngineError(Error):
    """IMGCLASS_ERR_ENGINE: the inference engine failed."""
    status = -10


class BusyError(Error):
    """IMGCLASS_ERR_BUSY: a queue is full and the call asked not to wait."""
    status = -11


class ClosedError(Error):
    """IMGCLASS_ERR_CLOSED: the object is shutting down and accepts nothing."""
    status = -12


_BY_STATUS = {cls.status: cls for cls in (
    InvalidArgumentError, OutOfMemoryError, IoError, UnsupportedError, CorruptError,
    TooLargeError, ModelError, LabelsError, DeviceError, EngineError, BusyError, ClosedError)}


def error_class(status):
    """The Error subclass for a C status (Error itself for an unknown one)."""
    return _BY_STATUS.get(status, Error)


def make_error(status, message):
    cls = error_class(status)
    # OSError's constructor interprets two arguments as (errno, strerror).
    err = cls.__new__(cls, message)
    Error.__init__(err, message, status)
    return err


def last_error():
    """This thread's last C error message (imgclass_last_error())."""
    return lib.imgclass_last_error().decode("utf-8", "replace")


def check(status):
    """Raises the Error subclass of a failed status with this thread's C
    message. ctypes runs the call and this check on the same Python thread,
    so the thread-local message is the call's own."""
    if status != 0:
        msg = last_error() or lib.imgclass_status_str(status).decode()
        raise make_error(status, msg)
