"""Small value classes of the double: loggers, Dims, Weights, IHostMemory, numpy type mapping."""
from __future__ import annotations

import sys

import numpy as np

from .enums import DataType, Severity
from .surface import Base, missing_instance_attr, prop

#: DataType member name -> numpy dtype (bf16, fp8, int4, fp4, e8m0 have none)
NUMPY = {"FLOAT": np.float32, "HALF": np.float16, "INT8": np.int8, "INT32": np.int32, "INT64": np.int64,
         "BOOL": np.bool_, "UINT8": np.uint8}


def to_numpy(dtype: DataType) -> np.dtype:
    if dtype.name not in NUMPY:
        raise NotImplementedError(f"the TensorRT test double cannot compute with {dtype} (no numpy type)")
    return np.dtype(NUMPY[dtype.name])


def from_numpy(dtype) -> DataType:
    dtype = np.dtype(dtype)
    for name, np_type in NUMPY.items():
        if np.dtype(np_type) == dtype:
            return getattr(DataType, name)
    raise TypeError(f"TensorRT has no DataType for numpy {dtype}")


def itemsize(dtype: DataType) -> int:
    return int(to_numpy(dtype).itemsize)


# ----- logging -------------------------------------------------------------------------------------
class ILogger(Base):
    _real = "ILogger"
    Severity = Severity

    def __init__(self):
        pass

    def log(self, severity, msg):
        # pybind11's error for a pure virtual method a Python subclass did not override
        raise RuntimeError('Tried to call pure virtual function "ILogger::log"')


for _name in ("INTERNAL_ERROR", "ERROR", "WARNING", "INFO", "VERBOSE"):
    setattr(ILogger, _name, getattr(Severity, _name))

_LETTERS = {"INTERNAL_ERROR": "F", "ERROR": "E", "WARNING": "W", "INFO": "I", "VERBOSE": "V"}


class Logger(ILogger):
    """Prints ``[TRT] [E] message`` lines to stderr for messages at or above ``min_severity`` (the real
    default logger also prefixes a timestamp; the double leaves it out so outputs are reproducible)."""

    _real = "Logger"

    def __init__(self, min_severity=Severity.WARNING):
        if not isinstance(min_severity, Severity):
            raise TypeError(f"__init__(): incompatible constructor arguments: {min_severity!r} is not an "
                            f"ILogger.Severity")
        self._min = min_severity

    @prop(10, 11)
    def min_severity(self):
        return self._min

    @min_severity.setter
    def min_severity(self, value):
        if not isinstance(value, Severity):
            raise TypeError(f"min_severity must be an ILogger.Severity, got {value!r}")
        self._min = value

    def log(self, severity, msg):
        if int(severity) <= int(self._min):
            print(f"[TRT] [{_LETTERS[severity.name]}] {msg}", file=sys.stderr, flush=True)


def emit(logger, severity: Severity, msg: str) -> None:
    """Send a message through the logger the user gave TensorRT (a Logger or an ILogger subclass)."""
    if logger is not None:
        logger.log(severity, msg)


def error(logger, msg: str) -> None:
    emit(logger, Severity.ERROR, msg)


def warning(logger, msg: str) -> None:
    emit(logger, Severity.WARNING, msg)


def info(logger, msg: str) -> None:
    emit(logger, Severity.INFO, msg)


# ----- Dims ----------------------------------------------------------------------------------------
class Dims(Base):
    """Behaves like a tuple (the Dims docstring: "Dims and all derived classes behave like Python tuples")."""

    _real = "Dims"
    MAX_DIMS = 8
    __hash__ = None

    def __init__(self, shape=()):
        dims = tuple(int(d) for d in shape)
        if len(dims) > self.MAX_DIMS:
            raise ValueError(f"Dims has at most {self.MAX_DIMS} dimensions, got {len(dims)}")
        self._d = dims

    @classmethod
    def _of(cls, shape):
        return cls(shape)

    def __len__(self):
        return len(self._d)

    def __getitem__(self, arg0):
        return self._d[arg0]

    def __setitem__(self, arg0, arg1):
        items = list(self._d)
        items[arg0] = arg1
        self._d = tuple(int(v) for v in items)

    def __iter__(self):
        return iter(self._d)

    def __eq__(self, arg0):
        if isinstance(arg0, Dims):
            return self._d == arg0._d
        if isinstance(arg0, (tuple, list)):
            return self._d == tuple(arg0)
        return NotImplemented

    def __repr__(self):
        return repr(self._d)

    def __str__(self):
        return str(self._d)


def shape_tuple(shape, what="shape") -> tuple[int, ...]:
    """A shape argument (tuple, list, Dims, numpy shape) as a tuple of ints; TypeError otherwise, as
    pybind11's implicit conversion to Dims would fail."""
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"incompatible function arguments: {what} must be a sequence of ints, got {shape!r}") \
            from None
    if len(dims) > Dims.MAX_DIMS:
        raise ValueError(f"{what} has more than {Dims.MAX_DIMS} dimensions")
    return dims


# ----- Weights -------------------------------------------------------------------------------------
class Weights(Base):
    """Weights over a numpy array. Docstring: "The weights are held by reference until the engine has
    been built - deep copies are not made automatically." The build copies them into the plan."""

    _real = "Weights"

    def __init__(self, a):
        if not isinstance(a, np.ndarray):
            raise TypeError("__init__(): incompatible constructor arguments: the TensorRT test double supports "
                            "only Weights(numpy.ndarray)")
        if not a.flags["C_CONTIGUOUS"]:
            raise ValueError("Weights need a C-contiguous array (the real binding takes the buffer as it is)")
        self._array = a
        self._dtype = from_numpy(a.dtype)

    @classmethod
    def _empty(cls, dtype=None):
        return cls._new(_array=np.zeros(0, np.float32), _dtype=dtype or DataType.FLOAT)

    @prop()
    def dtype(self):
        return self._dtype

    @prop()
    def size(self):
        return int(self._array.size)

    @prop()
    def nbytes(self):
        return int(self._array.nbytes)

    def __len__(self):
        return int(self._array.size)

    def numpy(self):
        return self._array


def weights_or_empty(w) -> Weights:
    if w is None:
        return Weights._empty()
    if isinstance(w, np.ndarray):
        return Weights(w)  # pybind11 converts numpy arrays to Weights implicitly
    if not isinstance(w, Weights):
        raise TypeError(f"incompatible function arguments: expected Weights, got {type(w).__name__}")
    return w


# ----- IHostMemory ---------------------------------------------------------------------------------
_BYTES_NAMES = {n for n in dir(bytes) if not n.startswith("_")}


class IHostMemory(bytes, Base):
    """A plan or serialized cache. Docstring: "This class exposes a buffer interface using Python's
    buffer protocol." (so ``bytes(plan)``, ``memoryview(plan)`` and ``f.write(plan)`` work). Built on
    ``bytes`` because Python 3.11 classes cannot export buffers otherwise; ``bytes``' own methods are
    hidden, as the real class has none of them."""

    _real = "IHostMemory"

    @classmethod
    def _of(cls, data: bytes):
        return bytes.__new__(cls, data)

    def __getattribute__(self, name):
        if name in _BYTES_NAMES:
            missing_instance_attr(self, name)
        return super().__getattribute__(name)

    @prop()
    def nbytes(self):
        return bytes.__len__(self)
