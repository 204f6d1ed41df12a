# TensorRT test double shim (tests/trt_double): importing this installs the double from TRTFAQ_TRT_DOUBLE and
# replaces itself in sys.modules, so `import tensorrt` returns the double's module. Not TensorRT.
import importlib.util as _util
import os as _os

_spec = _util.spec_from_file_location(
    "_trt_double_shim_bootstrap", _os.path.join(_os.path.dirname(_os.path.dirname(__file__)), "_trt_double_shim.py"))
_boot = _util.module_from_spec(_spec)
_spec.loader.exec_module(_boot)
_boot.install()
