"""Every chapter, TensorRT cells included, executed under the TensorRT test double (10.16 and 11.4).

Without TensorRT anywhere in CI, this is what runs the book's TensorRT code before a reader does: a
NameError, a missing tensor address, a buffer one element short, a profile selected too late or a
host array read before its stream finished all fail here, with the notebook and the cell named.
The double's output is never stored: notebooks run on in-memory copies.
"""
import json

import pytest

from bookfiles import ROOT
from double_pass import FLAVOURS, SKIP_LINE, PassFailure, chapters, run_notebook

REPORT: list[str] = []
#: requirements other than TensorRT and a GPU, which the double does not provide
NOT_DOUBLED = ("NVIDIA ModelOpt not installed",)


def test_stored_outputs_of_guarded_cells_are_their_skip_line_only():
    """Outputs of a TensorRT cell are never committed: the stored output is the CPU run's one line."""
    bad = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] != "code" or not "".join(cell["source"]).startswith("%%requires"):
                continue
            outs = cell.get("outputs", [])
            text = "".join("".join(o.get("text", "")) for o in outs)
            if len(outs) != 1 or outs[0].get("output_type") != "stream" or not SKIP_LINE.match(text):
                bad.append(f"{path.name} cell {i}")
    assert not bad, f"guarded cells store more than their skip line: {bad}"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_every_chapter_runs_under_the_double(flavour, tmp_path):
    lines, missing = [], []
    for path in chapters():
        r = run_notebook(path, flavour, tmp_path)
        lines.append(f"{r.notebook}: {r.ran} of {r.guarded} ran ({r.seconds:.1f} s)")
        missing += [f"{r.notebook} {s}" for s in r.skipped if not s.split(": ", 1)[1].startswith(NOT_DOUBLED)]
    total = sum(int(line.split(": ")[1].split(" of ")[0]) for line in lines)
    REPORT.append(f"TensorRT {flavour} double: {total} %%requires bodies ran\n  " + "\n  ".join(lines))
    assert not missing, f"TensorRT cells skipped under the double: {missing}"
    assert total >= 12


def replace(notebook: str, old: str, new: str):
    """A mutation for :func:`run_notebook`: ``old`` -> ``new`` in the one code cell holding it."""
    def mutate(nb):
        hits = [c for c in nb.cells if c.cell_type == "code" and old in "".join(c.source)]
        assert len(hits) == 1, f"{notebook}: {len(hits)} cells hold {old!r}"
        hits[0].source = "".join(hits[0].source).replace(old, new)
    return mutate


CH1, CH6, CH7 = "01-batch-profiles", "06-wrong-answers", "07-batch-norm"
PLANTED = {
    "shape set before selecting profile 1": (CH1, "11.4", replace(
        CH1, 'assert context.set_optimization_profile_async(1, stream.handle)',
        'assert context.set_input_shape("x", x.shape)\nassert context.set_optimization_profile_async(1, stream.handle)'),
        "AssertionError"),
    "a missing set_tensor_address": (CH1, "11.4", replace(CH1, 'context.set_tensor_address("y", d_y.ptr)', "pass"),
                                     "AssertionError"),
    "an output buffer one element short": (CH1, "11.4", replace(
        CH1, "DeviceBuffer(y.nbytes)", "DeviceBuffer(y.nbytes - 4)"), "AssertionError"),
    "a shape outside the profile": (CH1, "10.16", replace(
        CH1, "x = rng.standard_normal((100, 1024)).astype(np.float32)\ny = np.full((100, 1024)",
        "x = rng.standard_normal((200, 1024)).astype(np.float32)\ny = np.full((200, 1024)"), "AssertionError"),
    "a host read before synchronizing": (CH1, "10.16", replace(
        CH1, "stream.synchronize()                                        # 5.", "pass  # 5."),
        "Not equal to tolerance"),
    "BuilderFlag.FP16 under 11.4": (CH7, "11.4", replace(
        CH7, "config.clear_flag(trt.BuilderFlag.TF32)", "config.set_flag(trt.BuilderFlag.FP16)"),
        "AttributeError: type object 'tensorrt_bindings.tensorrt.BuilderFlag' has no attribute 'FP16'"),
    "a NameError inside a TensorRT cell": (CH6, "10.16", replace(
        CH6, 'y_trt32 = fp32_engine.infer(fp32_engine.typed({"x": raw_test}))', 'y_trt32 = fp32_engin.infer({})'),
        "NameError: name 'fp32_engin' is not defined"),
    "a USER_MANAGED context given no memory": ("03-workspace", "11.4", replace(
        "03-workspace", "context.set_device_memory(scratch.ptr, size)", "pass"), "AssertionError"),
    "USER_MANAGED memory one byte short": ("03-workspace", "10.16", replace(
        "03-workspace", "context.set_device_memory(scratch.ptr, size)", "context.set_device_memory(scratch.ptr, size - 1)"),
        "AssertionError"),
    "the inspector asked for ONELINE text": ("12-tensor-cores", "11.4", replace(
        "12-tensor-cores", "view.get_engine_information(trt.LayerInformationFormat.JSON)",
        "view.get_engine_information(trt.LayerInformationFormat.ONELINE)"), "is not JSON"),
}


@pytest.mark.parametrize("name", PLANTED)
def test_planted_mistake_fails_naming_notebook_and_cell(name, tmp_path):
    notebook, flavour, mutate, expected = PLANTED[name]
    with pytest.raises(PassFailure) as e:
        run_notebook(ROOT / "notebooks" / f"{notebook}.ipynb", flavour, tmp_path, mutate=mutate)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"notebooks/{notebook}.ipynb, code cell ")
    assert f"(TensorRT {flavour} double)" in msg and expected in msg, msg


def test_the_package_never_imports_the_double():
    """The double is test infrastructure: nothing a reader installs refers to it."""
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "trtfaq").rglob("*.py")
                 if "trt_double" in p.read_text() or "TRTFAQ_TRT_DOUBLE" in p.read_text()]
    offenders += [p.name for p in (ROOT / "notebooks").glob("*.ipynb") if "trt_double" in p.read_text()]
    assert not offenders
