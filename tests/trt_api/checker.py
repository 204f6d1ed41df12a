"""Find every use of the TensorRT Python API in the book and check it against each supported version.

The engine is the package's own (``trtfaq.tools.api_checker``, also behind ``trtfaq check-api``); see its
docstring for what is checked and which version gates are understood. Gate the book's version-specific
code with ``trtfaq.engine.trt_major``. This module adds which files make up the book.
"""
from __future__ import annotations

from pathlib import Path

from trtfaq.tools.api_checker import (  # noqa: F401 - re-exported: tests and the double use them from here
    CLASS,
    MODULE,
    Problem,
    Report,
    Source,
    check,
    notebook_source,
    python_source,
)


def book_sources(root: Path) -> list[Source]:
    """Every module of the helper package, subpackages included, and every notebook's code cells."""
    out = [python_source(p, root) for p in sorted((root / "trtfaq").rglob("*.py"))]
    out += [notebook_source(p, root) for p in sorted((root / "notebooks").glob("*.ipynb"))]
    return out
