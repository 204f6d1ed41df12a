"""Checks the book's TensorRT code against the real TensorRT Python APIs (10.x and 11.x).

``bindings`` fetches the official bindings wheels and generates stubs from them; ``api`` reads the
stubs; ``checker`` finds every TensorRT use in the package and the notebooks and checks it (with the
package's engine, ``trtfaq.tools.api_checker``, which also runs ``trtfaq check-api`` for readers).

``make_surface`` turns the stubs of every release in ``bindings.RELEASES`` into the API data the
package ships (``trtfaq/data/trt_api.json.gz``) and updates ``book/changes.md`` (``changes_page``);
``corpus/`` holds NVIDIA's own TensorRT Python code (``make_corpus``) on which ``corpus_eval``
measures the reader-facing checker's recall and precision.
"""

#: reports of the last run, printed at the end of the pytest session (tests/conftest.py)
REPORTS: list[str] = []
