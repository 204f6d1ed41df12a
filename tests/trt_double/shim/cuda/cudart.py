# CUDA runtime test double shim (tests/trt_double): importing this installs the double from TRTFAQ_TRT_DOUBLE;
# `cuda`, `cuda.bindings`, `cuda.bindings.runtime` and `cuda.cudart` then resolve to the double's modules.
# The shim folder is on PYTHONPATH, so its bootstrap module imports by name.
import _trt_double_shim

_trt_double_shim.install()
