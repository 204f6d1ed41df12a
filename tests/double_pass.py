"""Run every chapter notebook top to bottom under the TensorRT test double (CI; README "Tests").

The double (``tests/trt_double``) stands in for the ``tensorrt`` module, for cuda-python's runtime
and for ``nvidia-smi``, in a 10.16 and an 11.4 flavour, so that every ``%%requires tensorrt gpu`` body
executes. Notebooks run on in-memory copies in a fresh kernel each: stored outputs are never touched
and nothing the double computes is written anywhere. The double is test infrastructure, never
evidence: it proves the book's TensorRT code runs and keeps TensorRT's documented contract, not what
TensorRT would compute or how fast.

``python tests/double_pass.py [--flavour 11.4] [notebooks/NN-name.ipynb ...]`` runs it from the shell
(``make double`` runs one chapter under one flavour).
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIM = ROOT / "tests" / "trt_double" / "shim"
FLAVOURS = ("10.16", "11.4")
SKIP_LINE = re.compile(r"^(.*): skipped( \(.*\))?\n?$")


class PassFailure(Exception):
    """A cell raised under the double: one line naming the notebook, the cell and the error."""


@dataclass
class NotebookRun:
    notebook: str
    flavour: str
    seconds: float
    guarded: int = 0                                   # %%requires cells
    ran: int = 0                                       # ... whose body ran
    skipped: list[str] = field(default_factory=list)   # "cell N: <skip line>"


def chapters() -> list[Path]:
    """The notebooks of ``_toc.yml``, in reading order."""
    text = (ROOT / "_toc.yml").read_text()
    return [ROOT / f"{m}.ipynb" for m in re.findall(r"file:\s*(notebooks/\S+)", text)]


@contextlib.contextmanager
def double_environment(flavour: str, cache: Path, devices: str | None = None):
    """os.environ as a kernel started now sees it: the shim first on PYTHONPATH and PATH."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}: use one of {', '.join(FLAVOURS)}")
    saved = dict(os.environ)
    os.environ.update({
        "PYTHONPATH": os.pathsep.join([str(SHIM), str(ROOT)] + ([saved["PYTHONPATH"]] if saved.get("PYTHONPATH") else [])),
        "PATH": os.pathsep.join([str(SHIM / "bin"), saved.get("PATH", "")]),
        "TRTFAQ_TRT_DOUBLE": flavour,
        "TRTFAQ_CACHE": str(cache),   # the double's plans never reach a reader's engine cache
        "MPLBACKEND": "Agg",
    })
    if devices is not None:
        os.environ["TRTFAQ_DOUBLE_DEVICES"] = devices
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_notebook(path: Path, flavour: str, cache: Path, mutate: Callable | None = None,
                 timeout: int = 300) -> NotebookRun:
    """Execute ``path`` cell by cell under the double; :class:`PassFailure` at the first error."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    if mutate is not None:
        mutate(nb)
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    run = NotebookRun(str(rel), flavour, 0.0)
    start = time.perf_counter()
    with double_environment(flavour, cache):
        client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": str(path.parent)}})
        with client.setup_kernel():
            code_index = 0
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                code_index += 1
                try:
                    client.execute_cell(cell, index)
                except nbclient.exceptions.CellExecutionError as exc:
                    evalue = " ".join(str(exc.evalue).split())[:300]
                    raise PassFailure(f"{rel}, code cell {code_index} (TensorRT {flavour} double): "
                                      f"{exc.ename}: {evalue}") from None
                if "".join(cell.source).startswith("%%requires"):
                    run.guarded += 1
                    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
                    if SKIP_LINE.match(text) and len(cell.outputs) == 1:
                        run.skipped.append(f"code cell {code_index}: {text.strip()}")
                    else:
                        run.ran += 1
    run.seconds = time.perf_counter() - start
    return run


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flavour", choices=FLAVOURS, action="append", help="default: both")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter in _toc.yml")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or chapters()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="trtfaq-double-") as tmp:
        for flavour in args.flavour or FLAVOURS:
            for path in paths:
                try:
                    r = run_notebook(path, flavour, Path(tmp) / flavour)
                except PassFailure as exc:
                    print(f"FAILED {exc}", flush=True)
                    failed += 1
                    continue
                print(f"[{flavour}] {r.notebook}: {r.ran} of {r.guarded} %%requires bodies ran "
                      f"({r.seconds:.1f} s)" + "".join(f"; skipped {s}" for s in r.skipped), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
