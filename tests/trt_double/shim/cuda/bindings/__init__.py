# CUDA runtime test double shim (tests/trt_double): importing this installs the double from TRTFAQ_TRT_DOUBLE;
# `cuda`, `cuda.bindings`, `cuda.bindings.runtime` and `cuda.cudart` then resolve to the double's modules.
import importlib.util as _util
import os as _os

_here = _os.path.dirname(_os.path.abspath(__file__))
while _os.path.basename(_here) != "shim":
    _here = _os.path.dirname(_here)
_spec = _util.spec_from_file_location("_trt_double_shim_bootstrap", _os.path.join(_here, "_trt_double_shim.py"))
_boot = _util.module_from_spec(_spec)
_spec.loader.exec_module(_boot)
_boot.install()
