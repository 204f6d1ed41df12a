"""IPython integration: the ``%%requires`` cell magic and one-line display of book errors (every
chapter).

Load it in a notebook with ``%load_ext trtfaq``.
"""
from __future__ import annotations

import ast

from .errors import BookError
from .requires import missing


def requires(line: str, cell: str):
    """``%%requires tensorrt [gpu]``: run the cell only if every requirement is met.

    When a requirement is missing the cell prints one line and the notebook goes on. When all are
    met the body runs in the notebook's namespace and an exception in it ends the cell as an error,
    exactly as in a plain cell: Jupyter's "Run all" stops there and nbclient raises. (Running the
    body with ``run_cell`` would display the error and then report success.)
    """
    from IPython import get_ipython

    __tracebackhide__ = True  # noqa: F841 - IPython hides this frame in tracebacks
    needs = line.split() or ["tensorrt"]
    skipped = missing(needs)
    if skipped:
        print(skipped[0])
        return None
    shell = get_ipython()
    code = shell.transform_cell(cell)
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    filename = shell.compile.cache(code, shell.execution_count)  # tracebacks show the cell's lines
    exec(compile(tree, filename, "exec"), shell.user_ns)
    if last is not None:  # a final expression is displayed, as in a plain cell
        return eval(compile(ast.Expression(last.value), filename, "eval"), shell.user_ns)
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
