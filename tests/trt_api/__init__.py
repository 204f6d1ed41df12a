"""Checks the book's TensorRT code against the real TensorRT Python APIs (10.x and 11.x).

``bindings`` fetches the official bindings wheels and generates stubs from them; ``api`` reads the
stubs; ``checker`` finds every TensorRT use in the package and the notebooks and checks it.
"""

#: reports of the last run, printed at the end of the pytest session (tests/conftest.py)
REPORTS: list[str] = []
