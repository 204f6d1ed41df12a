"""IPython integration: the ``%%requires`` cell magic and one-line display of book errors.

Load it in a notebook with ``%load_ext trtfaq``.
"""
from __future__ import annotations

from .errors import BookError
from .requires import missing


def requires(line: str, cell: str):
    """``%%requires tensorrt [gpu]``: run the cell only if every requirement is met."""
    from IPython import get_ipython

    needs = line.split() or ["tensorrt"]
    skipped = missing(needs)
    if skipped:
        print(skipped[0])
        return None
    get_ipython().run_cell(cell, store_history=False)
    return None


def _show_book_error(shell, etype, evalue, tb, tb_offset=None):
    """Show a :class:`BookError` as ``ErrorName: message``, one line, no traceback.

    The error still stops "Run all", as any exception does; only its display is shortened.
    """
    stb = [f"{etype.__name__}: {evalue}"]
    shell._showtraceback(etype, evalue, stb)
    return stb


def load(ipython) -> None:
    ipython.register_magic_function(requires, magic_kind="cell", magic_name="requires")
    ipython.set_custom_exc((BookError,), _show_book_error)
