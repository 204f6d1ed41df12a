"""A strict, pure-Python test double of TensorRT 10.16 / 11.4 and of the cuda-python runtime calls the book
makes, so CI can execute every TensorRT cell of the book on machines without TensorRT or a GPU.

What it is: test infrastructure. Its surface is the real one (every name it defines exists in stubs
generated from the real bindings of the version it plays, checked by tests/test_trt_double.py); a real
name it does not implement raises NotImplementedError, any other name AttributeError worded like
pybind11's. It enforces TensorRT's documented contract (contract.py: profiles, shapes, addresses, plan
compatibility, devices), models device memory, asynchronous streams and several devices (cudart.py),
and computes engines with ONNX Runtime or numpy (programs.py).

What it is not: TensorRT. Nothing it prints, computes or times is evidence of TensorRT's behaviour,
accuracy or speed; its plans and timing caches are its own formats; its clock is a model. Nothing in
``trtfaq/`` imports it, and nothing it produces may be presented as a TensorRT result.

Use, in-process::

    import trt_double
    trt = trt_double.install("11.4")        # or "10.16"; devices=[{...}, ...] for several GPUs
    ...                                      # import tensorrt / cuda.bindings.runtime now get the double
    trt_double.reset()                       # fresh devices, memory, streams (test isolation)
    trt_double.uninstall()

In another process (a Jupyter kernel): put ``tests/trt_double/shim`` first on PYTHONPATH and
``tests/trt_double/shim/bin`` first on PATH, and set ``TRTFAQ_TRT_DOUBLE=10.16|11.4`` (optionally
``TRTFAQ_DOUBLE_DEVICES``, a JSON list, see devices.py).
"""
from __future__ import annotations

import os
import sys

from . import cudart, devices, surface

FLAVOURS = {flavour: entry[0] for flavour, entry in devices.FLAVOURS.items()}  # flavour -> TensorRT version
MODULE_NAMES = ("tensorrt", "cuda", "cuda.bindings", "cuda.bindings.runtime", "cuda.cudart")

_installed: dict = {"flavour": None, "specs": None, "saved": None}


def install(flavour: str, devices=None):
    """Put the double of ``flavour`` ("10.16" or "11.4") into ``sys.modules`` as ``tensorrt`` and the CUDA
    runtime double as ``cuda``, ``cuda.bindings``, ``cuda.bindings.runtime`` and ``cuda.cudart``.
    ``devices``: simulated GPUs (list of dicts, see devices.py); default one H100. Returns ``tensorrt``."""
    import types

    from . import module, programs

    if flavour not in FLAVOURS:
        raise ValueError(f"unknown TensorRT double flavour {flavour!r}: use one of {sorted(FLAVOURS)}")
    specs = _devices_module().parse(devices)
    uninstall()
    version = FLAVOURS[flavour]
    surface.set_active(version)
    cudart._new_state(specs, flavour)
    programs._cache.clear()
    trt = module.build(version)
    runtime = cudart.make_module("cuda.bindings.runtime")
    bindings = types.ModuleType("cuda.bindings", "CUDA runtime test double (tests/trt_double)")
    bindings.__path__ = []
    bindings.runtime = runtime
    cuda = types.ModuleType("cuda", "CUDA runtime test double (tests/trt_double)")
    cuda.__path__ = []
    cuda.bindings = bindings
    cuda.cudart = runtime
    new = {"tensorrt": trt, "cuda": cuda, "cuda.bindings": bindings, "cuda.bindings.runtime": runtime,
           "cuda.cudart": runtime}
    import importlib.machinery

    for name, mod in new.items():
        if mod is not trt and name != "cuda.cudart":
            mod.__spec__ = importlib.machinery.ModuleSpec(name, None, origin=cudart.__file__,
                                                          is_package=name in ("cuda", "cuda.bindings"))
    _installed.update(flavour=flavour, specs=specs, saved={n: sys.modules.get(n) for n in MODULE_NAMES})
    sys.modules.update(new)
    return trt


def uninstall() -> None:
    """Take the double out of ``sys.modules`` (restoring what was there) and drop its state."""
    saved = _installed.get("saved")
    if saved is not None:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    _installed.update(flavour=None, specs=None, saved=None)
    surface.set_active(None)
    cudart._drop_state()


def reset() -> None:
    """Fresh simulated devices (memory, streams, events, current device, sticky errors) for test isolation.
    Engines and contexts made before keep failing cleanly (execute_async_v3 returns False)."""
    from . import programs

    if _installed["flavour"] is None:
        raise RuntimeError("the TensorRT test double is not installed")
    cudart._new_state(_installed["specs"], _installed["flavour"])
    programs._cache.clear()


def installed() -> str | None:
    """The installed flavour, or None."""
    return _installed["flavour"]


def install_from_env(environ=None):
    """Install from ``TRTFAQ_TRT_DOUBLE`` and ``TRTFAQ_DOUBLE_DEVICES`` (what the shim does); a no-op when the
    same flavour is already installed. ImportError when the variable is missing or wrong."""
    environ = os.environ if environ is None else environ
    flavour = environ.get(devices.ENV_FLAVOUR, "")
    if flavour not in FLAVOURS:
        raise ImportError(f"the TensorRT test double shim needs {devices.ENV_FLAVOUR}=10.16 or 11.4, got {flavour!r}")
    if _installed["flavour"] == flavour and sys.modules.get("tensorrt") is not None:
        return sys.modules["tensorrt"]
    return install(flavour, devices.from_env(environ))


def _devices_module():
    return devices
