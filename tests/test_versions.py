import _ctypes
from pathlib import Path

import pytest

from trtfaq.chapters import versions
from trtfaq.errors import BookError, InputError

from helpers import one_line


@pytest.mark.parametrize("release, value", [((8, 6, 1), 8601), ((8, 2, 3), 8203), ((9, 1, 0), 9100),
                                            ((10, 0, 1), 100001), ((10, 16, 1), 101601), ((11, 4, 0), 110400)])
def test_encode_and_decode_round_trip(release, value):
    assert versions.encode(*release) == value
    d = versions.decode(value)
    assert (d.major, d.minor, d.patch) == release
    assert d.scheme == (versions.OLD if release[0] < 10 else versions.NEW)


@pytest.mark.parametrize("value", [0, 999, 10000, 99999, 1000000, -8601])
def test_numbers_in_neither_range_are_refused(value):
    with pytest.raises(InputError) as e:
        versions.decode(value)
    assert "is not a TensorRT version number" in one_line(e)


@pytest.mark.parametrize("release", [(8, 10, 0), (10, 100, 0), (10, 1, 100), (0, 1, 0)])
def test_unencodable_releases_are_refused(release):
    with pytest.raises(InputError):
        versions.encode(*release)


def test_missing_and_non_elf_library_files(tmp_path):
    with pytest.raises(InputError) as e:
        versions.dynamic_symbols(tmp_path / "libnvinfer.so.11")
    assert one_line(e).endswith("libnvinfer.so.11 does not exist")
    bad = tmp_path / "libnvinfer.so.11"
    bad.write_bytes(b"this is not an ELF file")
    with pytest.raises(InputError) as e:
        versions.library_version(bad)
    assert one_line(e) == "libnvinfer.so.11 is not an ELF shared library"


def test_an_elf_library_that_is_not_tensorrt():
    path = _ctypes.__file__  # a shared library of Python's own, without TensorRT's version functions
    assert "PyInit__ctypes" in versions.dynamic_symbols(path)
    with pytest.raises(InputError) as e:
        versions.library_version(path)
    assert "does not export getInferLibVersion(): not a TensorRT 10.x or later library" in one_line(e)


def test_fetch_needs_an_exact_pin():
    with pytest.raises(InputError) as e:
        versions.fetch_runtime_library("tensorrt-dispatch-cu13-libs")
    assert "pin an exact version" in one_line(e)


@pytest.mark.network
def test_fetch_of_a_release_that_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("TRTFAQ_CACHE", str(tmp_path))
    with pytest.raises(BookError) as e:
        versions.fetch_runtime_library("tensorrt-dispatch-cu13-libs==0.0.0")
    assert one_line(e).startswith("could not download tensorrt-dispatch-cu13-libs==0.0.0 from PyPI")


@pytest.mark.network
def test_the_real_11_4_dispatch_runtime():
    path = versions.fetch_runtime_library("tensorrt-dispatch-cu13-libs==11.4.0.106")
    v = versions.library_version(path)
    assert (v.value, v.major, v.minor, v.patch, v.build) == (110400, 11, 4, 0, 106)
    symbols = versions.dynamic_symbols(path)
    assert "getInferLibVersion" in symbols and "createInferBuilder_INTERNAL" not in symbols
    assert "libc.so.6" in versions.needed_libraries(path)


def _fake_wheel(cache, name="tensorrt-dispatch-cu13-libs", version="9.9.9"):
    import zipfile

    wheels = cache / "libs" / "wheels"
    wheels.mkdir(parents=True)
    path = wheels / f"{name.replace('-', '_')}-{version}-py3-none-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("tensorrt_libs/libnvinfer_dispatch.so.9", b"\x7fELF not really")
    return f"{name}=={version}", path


def test_without_network_the_error_says_so_in_one_line(tmp_path, monkeypatch):
    import subprocess as sp

    monkeypatch.setenv("TRTFAQ_CACHE", str(tmp_path))
    failed = sp.CompletedProcess([], 1, "", "WARNING: Retrying ... Failed to establish a new connection: [Errno 101]\n"
                                 "ERROR: Could not find a version that satisfies the requirement")
    monkeypatch.setattr(versions.subprocess, "run", lambda *a, **k: failed)
    with pytest.raises(BookError) as e:
        versions.fetch_runtime_library("tensorrt-dispatch-cu13-libs==11.4.0.106")
    assert "needs the network once" in one_line(e) and "doctor --prefetch" in one_line(e)


def test_an_interrupted_extraction_leaves_nothing_half_written(tmp_path, monkeypatch):
    import zipfile

    monkeypatch.setenv("TRTFAQ_CACHE", str(tmp_path))
    requirement, _ = _fake_wheel(tmp_path)

    def interrupted(self, path, members=None):
        (Path(path) / "tensorrt_libs").mkdir(parents=True)
        (Path(path) / "tensorrt_libs" / "libnvinfer_dispatch.so.9").write_bytes(b"\x7fEL")  # truncated
        raise KeyboardInterrupt

    real = zipfile.ZipFile.extractall
    monkeypatch.setattr(zipfile.ZipFile, "extractall", interrupted)
    with pytest.raises(KeyboardInterrupt):
        versions.fetch_runtime_library(requirement)
    assert not list((tmp_path / "libs").glob("*/*/libnvinfer_*"))  # no truncated library anywhere
    monkeypatch.setattr(zipfile.ZipFile, "extractall", real)
    lib = versions.fetch_runtime_library(requirement)      # the next run completes from the cached wheel
    assert lib.read_bytes() == b"\x7fELF not really" and not list((tmp_path / "libs").glob(".*"))


def test_a_corrupt_cached_wheel_is_deleted_with_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TRTFAQ_CACHE", str(tmp_path))
    requirement, wheel = _fake_wheel(tmp_path)
    wheel.write_bytes(b"not a zip")
    with pytest.raises(BookError) as e:
        versions.fetch_runtime_library(requirement)
    assert "is not a valid wheel: deleted" in one_line(e) and not wheel.exists()
