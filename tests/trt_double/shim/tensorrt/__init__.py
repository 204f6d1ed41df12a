# TensorRT test double shim (tests/trt_double): importing this installs the double from TRTFAQ_TRT_DOUBLE and
# replaces itself in sys.modules, so `import tensorrt` returns the double's module. Not TensorRT.
# The shim folder is on PYTHONPATH, so its bootstrap module imports by name.
import _trt_double_shim

_trt_double_shim.install()
