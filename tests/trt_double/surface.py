"""The double's surface is the real one: names are checked against stubs of the real bindings.

At run time this module answers one question for any attribute the double does not define: is it a
real name of the TensorRT version being played? A real name raises
``NotImplementedError("not implemented by the TensorRT test double: IBuilderConfig.set_tactic_sources")``;
any other name raises ``AttributeError`` worded like pybind11's, e.g.
``type object 'tensorrt_bindings.tensorrt.BuilderFlag' has no attribute 'FP16'`` (that module prefix is
what TensorRT's pip wheels show, e.g. https://github.com/NVIDIA/TensorRT/issues/3816 and
https://github.com/yuvraj108c/ComfyUI-Rife-Tensorrt/issues/25).

The stubs come from ``tests/trt_api`` (generated from the official bindings wheels, cached under
``$TRTFAQ_CACHE/trt-api``); they are loaded lazily, once per version.
"""
from __future__ import annotations

import functools
import threading

#: the module pybind11 names in its messages (TensorRT's pip wheels import the bindings as this)
TYPE_MODULE = "tensorrt_bindings.tensorrt"

#: defined by the pure-Python ``tensorrt_bindings/__init__.py`` of the wheel, not by the bindings,
#: so absent from the stubs (the surface test checks them against that file)
PURE_PYTHON_FUNCTIONS = ("volume", "nptype")

_active = {"version": None}
_lock = threading.Lock()


def set_active(version: str | None) -> None:
    _active["version"] = version


def active_version() -> str:
    version = _active["version"]
    if version is None:
        raise RuntimeError("the TensorRT test double is not installed (trt_double.install)")
    return version


def active_major() -> int:
    return int(active_version().split(".")[0])


@functools.cache
def real_api(version: str):
    """The real API of ``version`` (``trt_api.api.API``), from stubs of its bindings wheel."""
    with _lock:
        from trt_api import api, bindings

        return api.load(bindings.stubs(version), version)


def is_real_attr(real_class: str, name: str, version: str | None = None) -> bool:
    return real_api(version or active_version()).lookup(real_class, name) is not None


def is_real_module_attr(name: str, version: str | None = None) -> bool:
    return name in PURE_PYTHON_FUNCTIONS or real_api(version or active_version()).module_lookup(name) is not None


def not_implemented(where: str) -> NotImplementedError:
    return NotImplementedError(f"not implemented by the TensorRT test double: {where}")


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def real_class_of(cls) -> str | None:
    """The real class a double class (or a user subclass of one) plays, e.g. ``ILogger.Severity``."""
    for klass in cls.__mro__:
        real = klass.__dict__.get("_real")
        if real:
            return real
    return None


def type_name(cls) -> str:
    """How pybind11 names the type in messages; a user's Python subclass is named plainly."""
    if "_real" in cls.__dict__:
        return f"{TYPE_MODULE}.{cls._real}"
    return cls.__name__


def missing_instance_attr(obj, name: str):
    """Raise for an attribute the double's object does not have (called from ``__getattr__``)."""
    cls = type(obj)
    real = real_class_of(cls)
    if real and not name.startswith("_") and is_real_attr(real, name):
        raise not_implemented(f"{real}.{name}")
    raise AttributeError(f"'{type_name(cls)}' object has no attribute '{name}'")


def missing_class_attr(cls, name: str):
    real = real_class_of(cls)
    if real and not name.startswith("_") and is_real_attr(real, name):
        raise not_implemented(f"{real}.{name}")
    raise AttributeError(f"type object '{type_name(cls)}' has no attribute '{name}'")


def missing_module_attr(module_name: str, name: str):
    if not _is_dunder(name) and is_real_module_attr(name):
        raise not_implemented(f"{module_name}.{name}")
    raise AttributeError(f"module '{module_name}' has no attribute '{name}'")


class Meta(type):
    """Metaclass of every double class: class-level attribute misses go through the stubs."""

    def __getattr__(cls, name):
        missing_class_attr(cls, name)


class Base(metaclass=Meta):
    """Base of every double class. Public attributes are only those the class defines; setting any
    other public name fails as on a pybind11 object (user subclasses may add their own)."""

    _real = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_real"):
            cls.__module__ = TYPE_MODULE  # as pybind11 names the type: tensorrt_bindings.tensorrt.X

    def __init__(self, *args, **kwargs):
        # pybind11's message for classes without a Python constructor
        raise TypeError(f"{type_name(type(self))}: No constructor defined!")

    @classmethod
    def _new(cls, **fields):
        """Create an instance internally (the real objects come from factories, not constructors)."""
        obj = object.__new__(cls)
        for key, value in fields.items():
            object.__setattr__(obj, key, value)
        return obj

    def __getattr__(self, name):
        missing_instance_attr(self, name)

    def __setattr__(self, name, value):
        cls = type(self)
        if name.startswith("_") or "_real" not in cls.__dict__:
            object.__setattr__(self, name, value)  # internal state, or a user's subclass
            return
        for klass in cls.__mro__:
            if name in klass.__dict__:
                attr = klass.__dict__[name]
                if hasattr(attr, "__set__"):
                    object.__setattr__(self, name, value)  # a property: its setter decides
                    return
                break
        missing_instance_attr(self, name)


class Only:
    """A member that exists only in some TensorRT majors (e.g. ``Builder.platform_has_fast_fp16``, 10.x).

    In another major, access behaves as if the member were not defined: the stubs decide between
    NotImplementedError and AttributeError. The surface test reads ``majors``.
    """

    def __init__(self, majors, inner):
        self.majors = frozenset(majors)
        self.inner = inner

    def __set_name__(self, owner, name):
        self.name = name
        if hasattr(self.inner, "__set_name__"):
            self.inner.__set_name__(owner, name)

    def available(self) -> bool:
        return active_major() in self.majors

    def __get__(self, obj, owner=None):
        if not self.available():
            raise AttributeError(self.name)  # -> __getattr__ -> stubs
        return self.inner.__get__(obj, owner)

    def __set__(self, obj, value):
        if not self.available() or not hasattr(self.inner, "__set__"):
            missing_instance_attr(obj, self.name)
        self.inner.__set__(obj, value)


def only(*majors):
    """Decorator form of :class:`Only`, outermost (above ``@property``)."""
    return lambda inner: Only(majors, inner)


class Prop:
    """A property of the real API. ``settable_in``: the majors where the real one has a setter; there,
    a missing ``fset`` raises NotImplementedError; elsewhere setting fails as for a read-only property."""

    def __init__(self, fget, fset=None, settable_in=()):
        self.fget, self.fset, self.settable_in = fget, fset, frozenset(settable_in)

    def __set_name__(self, owner, name):
        self.name = name

    def setter(self, fset):
        self.fset = fset
        return self

    def __get__(self, obj, owner=None):
        return self if obj is None else self.fget(obj)

    def __set__(self, obj, value):
        if active_major() not in self.settable_in:
            raise AttributeError(f"property '{self.name}' of '{type(obj).__name__}' object has no setter")
        if self.fset is None:
            raise not_implemented(f"{real_class_of(type(obj))}.{self.name} (setting it)")
        self.fset(obj, value)


def prop(*settable_in):
    """``@prop()`` read-only; ``@prop(10, 11)`` settable in those majors (add ``@x.setter`` to implement)."""
    return lambda fget: Prop(fget, settable_in=settable_in)
