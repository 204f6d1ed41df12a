"""trtfaq.bindings: the real TensorRT bindings read as files. Offline tests on a synthetic file; the
network tests read the real 8.6, 10.16 and 11.4 wheels and check every answer the chapters rely on
against stubs generated from the same wheels by importing them (tests/trt_api)."""
import pytest

from trtfaq import bindings
from trtfaq.errors import InputError

from helpers import one_line


def fake_so(tmp_path, *strings):
    """A file that reads like a shared library: an ELF magic, then null-terminated strings."""
    path = tmp_path / "tensorrt.so"
    path.write_bytes(b"\x7fELF\x02\x01\x01\0" + b"\0".join(s.encode() for s in strings) + b"\0")
    return path


def test_strings_registered_names_and_docstrings(tmp_path):
    b = bindings.Binary.read(fake_so(tmp_path, "WORKSPACE", "set_memory_pool_limit",
                                     "\n    WORKSPACE is used by TensorRT.\n    This defaults to max device memory.",
                                     ":ivar max_workspace_size: stale"), "test")
    assert b.registers("WORKSPACE") and b.registers("set_memory_pool_limit")
    assert not b.registers("max_workspace_size")          # only inside a docstring: not registered
    assert b.mentions(":ivar max_workspace_size:")
    assert b.docstring("WORKSPACE is").endswith("max device memory.")
    assert b.docstring("TACTIC_DRAM is") is None
    assert "max_workspace_size" in bindings.presence_table({"test": b}, ["WORKSPACE", "max_workspace_size"])


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing.so", "does not exist"),
    (lambda p: (p / "x.so").write_text("not a library") and p / "x.so", "no ELF header"),
])
def test_bad_files_are_one_line_errors(tmp_path, make, message):
    with pytest.raises(InputError) as e:
        bindings.Binary.read(make(tmp_path))
    assert message in one_line(e)


def test_bad_requests_are_one_line_errors(tmp_path):
    b = bindings.Binary.read(fake_so(tmp_path, "x"))
    for call, message in [(lambda: b.registers("not a name"), "not a Python identifier"),
                          (lambda: bindings.load("9.0"), "unknown release '9.0'"),
                          (lambda: bindings.fetch("tensorrt-cu12-bindings", tmp_path), "need a pinned"),
                          (lambda: bindings.fetch("numpy==2.0", tmp_path), "need a pinned")]:
        with pytest.raises(InputError) as e:
            call()
        assert message in one_line(e)


# ----- the real wheels ---------------------------------------------------------------------------

#: every name chapters 3 and 12 ask the bindings about
NAMES = ["max_workspace_size", "set_memory_pool_limit", "get_memory_pool_limit", "TACTIC_SHARED_MEMORY",
         "WORKSPACE", "TACTIC_DRAM", "DLA_MANAGED_SRAM", "DLA_LOCAL_DRAM", "DLA_GLOBAL_DRAM",
         "device_memory_size", "device_memory_size_v2", "get_device_memory_size_for_profile_v2",
         "create_execution_context_without_device_memory", "ExecutionContextAllocationStrategy",
         "set_device_memory", "update_device_memory_size_for_shapes", "add_fully_connected", "add_matrix_multiply",
         "add_convolution_nd", "add_deconvolution_nd", "add_attention", "add_moe", "CUBLAS", "CUBLAS_LT", "CUDNN",
         "EDGE_MASK_CONVOLUTIONS", "JIT_CONVOLUTIONS", "create_engine_inspector", "LayerInformationFormat"]
STUBS = {"8.6": "8.6.1", "10.16": "10.16.1.11", "11.4": "11.4.0.106"}


def _stub_names(version: str) -> set[str]:
    """Every class, member and attribute name in the stubs of ``version`` (tests/trt_api)."""
    import re

    from trt_api import bindings as stub_bindings

    text = (stub_bindings.stubs(version) / "tensorrt" / "__init__.pyi").read_text()
    return set(re.findall(r"^\s*(?:def |class )?([A-Za-z_][A-Za-z0-9_]*)\s*[(:]", text, re.M))


@pytest.mark.network
@pytest.mark.parametrize("release", list(bindings.RELEASES))
def test_registered_names_agree_with_stubs_of_the_same_wheel(release):
    b = bindings.load(release)
    names = _stub_names(STUBS[release])
    wrong = [n for n in NAMES if b.registers(n) != (n in names)]
    assert not wrong, f"{release}: the file and the stubs disagree on {wrong}"


@pytest.mark.network
def test_docstrings_the_chapters_quote():
    eleven, eight = bindings.load("11.4"), bindings.load("8.6")
    assert "This defaults to max device memory." in eleven.docstring("WORKSPACE is")
    assert eight.docstring("kTACTIC_DRAM is") is not None       # 8.6 spells this member's doc with a k
    assert eleven.docstring("Allow (but not require) computations on tensors of type DataType.FLOAT to use "
                            "TF32").endswith("Enabled by default.")
    assert eleven.mentions(":ivar max_workspace_size:") and not eleven.registers("max_workspace_size")
