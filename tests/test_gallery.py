"""The results gallery's checks of the book's timer, on synthetic result documents (labelled so)."""
import json

import numpy as np
import pytest

from trtfaq import results
from trtfaq.chapters import gallery
from trtfaq.errors import ResultError
from trtfaq.experiments.timer import SMALL_METHODS

from helpers import one_line

PROV = {"gpu": "synthetic", "compute_capability": "9.0", "driver": "x", "cuda_runtime": "13.0", "libraries": {},
        "created": "2026-11-25T00:00:00Z", "git_commit": "0" * 40, "command": "synthetic", "python": "3.11"}


def small_run(tmp_path, book_us: float | None):
    """A SYNTHETIC timer-small document: reference 14 us, host-bound eager methods, the book at ``book_us``."""
    def samples(us):  # a spread of +-1 % around a median of exactly ``us``
        return None if us is None else {"samples_ms": list(us / 1000 * (1 + 0.01 * np.linspace(-1, 1, 51)))}

    methods = {"per_call": samples(22.0), "eager_x20": samples(19.0), "book_graph_x20": samples(book_us),
               "torch_graph_x20": samples(14.1), "reference": samples(14.0)}
    data = {"workload": "synthetic", "methods": SMALL_METHODS,
            "runs": [{"batch": 1, "relative_error_vs_float64": 1e-3, "methods": methods}]}
    path = results.save(tmp_path, "timer-small", "notebooks/01-batch-profiles", "t", "synthetic, not TensorRT",
                        PROV, data)
    return results.load(path)


def test_timer_small_table_accepts_the_book_within_3_percent(tmp_path):
    text = gallery.timer_small_table(small_run(tmp_path, 14.2))
    assert "time_graph: 20 calls in 1 graph" in text and "+1.4%" in text
    rows = {r["method"]: r for r in gallery.timer_small_rows(small_run(tmp_path, 14.2))}
    assert rows["per_call"]["diff_percent"] > 50  # the host's enqueue time inside the measurement


@pytest.mark.parametrize("book_us, message", [(15.0, "+7.1 % off the reference"), (None, "missing off")])
def test_timer_small_table_refuses_a_book_timing_off_the_reference(tmp_path, book_us, message):
    with pytest.raises(ResultError) as e:
        gallery.timer_small_table(small_run(tmp_path, book_us))
    assert message in one_line(e)


def test_a_synthetic_document_never_lands_in_results():
    assert all("synthetic" not in json.dumps(r.provenance) for r in results.list_results())
