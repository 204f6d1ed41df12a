"""``trtfaq check-api`` on NVIDIA's own TensorRT Python code: recall on 8.6 code, precision on current code.

How the numbers are counted is in ``tests/trt_api/corpus_eval.py``; the hand labels are in
``tests/trt_api/corpus/labels.json``; the files and their sources in ``tests/trt_api/corpus/README.md``.
The measured numbers are printed at the end of the pytest run (with the API check's report).
"""
import pytest

from trtfaq.tools import apisurface, check_api

from bookfiles import ROOT
from trt_api import REPORTS, corpus_eval

SURFACE = apisurface.load()
LABELS = corpus_eval.load_labels()
V86 = corpus_eval.corpus_sources("v86")
CURRENT = corpus_eval.corpus_sources("current")
THIRDPARTY = corpus_eval.thirdparty_sources()
THIRDPARTY_LABELS = corpus_eval.load_thirdparty_labels()
#: lower bounds for the measured values (they are 1.0 today; see the report for the counts)
MIN_RECALL, MIN_PRECISION_CURRENT, MIN_PRECISION_POLYGRAPHY = 0.95, 0.95, 0.95


def rows(items):
    return {tuple(r[:3]) for r in items}


@pytest.mark.parametrize("target", list(LABELS["recall"]))
def test_recall_on_8_6_code(target):
    labels = LABELS["recall"][target]
    uses, not_uses = rows(labels["uses"]), rows(labels["not_uses"])
    candidates = {(c.file, c.line, c.name) for c in corpus_eval.candidates(SURFACE, target, V86)}
    assert candidates == uses | not_uses, ("labels.json is out of date: unlabelled "
                                           f"{sorted(candidates - uses - not_uses)}, gone {sorted((uses | not_uses) - candidates)}")
    assert not uses & not_uses
    found, result = corpus_eval.reported(V86, target, SURFACE)
    assert result.crashed == [] and result.notes == []
    hits, wrong = uses & found, not_uses & found
    extra = found - uses - not_uses
    recall = len(hits) / len(uses)
    REPORTS.append(f"check-api recall on TensorRT 8.6.1 samples vs {target}: {len(hits)}/{len(uses)} = {recall:.3f} "
                   f"(missed {sorted(uses - found)}); reported non-uses {len(wrong)}; "
                   f"other reports {len(extra)}, all labelled right: {extra <= rows(LABELS['recall_extra_right'])}")
    assert recall >= MIN_RECALL, sorted(uses - found)
    assert not wrong, sorted(wrong)
    assert extra <= rows(LABELS["recall_extra_right"]), sorted(extra - rows(LABELS["recall_extra_right"]))


def _precision(name, sources, targets):
    labels = LABELS["precision"][name]
    right, wrong = rows(labels["right"]), rows(labels["wrong"])
    counts = {"right": 0, "wrong": 0}
    for target in targets:
        found, result = corpus_eval.reported(sources, target, SURFACE)
        assert result.crashed == []
        assert found <= right | wrong, f"unlabelled reports on {target}: {sorted(found - right - wrong)}"
        counts["right"] += len(found & right)
        counts["wrong"] += len(found & wrong)
    total = counts["right"] + counts["wrong"]
    precision = counts["right"] / total if total else 1.0
    REPORTS.append(f"check-api precision on {name} vs {', '.join(targets)}: {counts['right']}/{total} = "
                   f"{precision:.3f} (a report counted once per release it names)")
    return precision


def test_precision_on_current_nvidia_samples():
    targets = [SURFACE.resolve("11.1"), SURFACE.resolve("11"), SURFACE.resolve("10")]
    assert _precision("current", CURRENT, targets) >= MIN_PRECISION_CURRENT


@pytest.mark.network  # reads Polygraphy from its pinned wheel on PyPI (downloaded once)
def test_precision_on_current_polygraphy():
    targets = [SURFACE.resolve("11.1"), SURFACE.resolve("11"), SURFACE.resolve("10")]
    assert _precision("polygraphy", corpus_eval.polygraphy_sources(), targets) >= MIN_PRECISION_POLYGRAPHY


def test_whole_corpus_against_every_release_without_a_crash():
    result = check_api.check_sources(V86 + CURRENT, SURFACE.releases, SURFACE)
    assert result.crashed == [] and result.notes == []
    assert result.files == len(V86) + len(CURRENT)


@pytest.mark.parametrize("name", ["v86", "current"])
def test_uses_the_checker_cannot_type_are_counted(name):
    sources = V86 if name == "v86" else CURRENT
    result = check_api.check_sources(sources, check_api.default_targets(SURFACE), SURFACE)
    REPORTS.append(f"check-api on the {name} corpus: {result.uses} uses checked, {len(result.unchecked)} TensorRT "
                   f"names on objects of unknown type counted as unchecked")
    assert result.unchecked, "the corpus has untyped receivers (function parameters): they must be counted"
    assert all(u.name in check_api.unchecked_names(SURFACE) for u in result.unchecked)


# ----- other public projects (mmdeploy, torch2trt, YOLOv8-TensorRT, tensorrtx, Torch-TensorRT) -------------------
def test_precision_on_other_projects():
    labels = THIRDPARTY_LABELS["precision"]
    right, wrong = {tuple(r[:4]) for r in labels["right"]}, {tuple(r[:4]) for r in labels["wrong"]}
    result = check_api.check_sources(THIRDPARTY, check_api.default_targets(SURFACE), SURFACE, deprecated=False)
    assert result.crashed == [] and result.notes == [] and result.files == len(THIRDPARTY)
    found = {(f.source, f.line, f.name, t) for f in result.findings for t in f.releases}
    assert found <= right | wrong, f"unlabelled reports: {sorted(found - right - wrong)[:5]}"
    precision = len(found & right) / len(found)
    REPORTS.append(f"check-api precision on {len(THIRDPARTY)} files of 5 other projects vs "
                   f"{', '.join(check_api.default_targets(SURFACE))}: {len(found & right)}/{len(found)} = {precision:.3f} "
                   f"(wrong: {sorted(found & wrong)}); {len(result.unchecked)} uses unchecked")
    assert precision >= MIN_PRECISION_CURRENT
    assert right <= found, f"right reports no longer made: {sorted(right - found)[:5]}"


@pytest.mark.parametrize("target", list(THIRDPARTY_LABELS["recall"]))
def test_recall_on_other_projects(target):
    labels = THIRDPARTY_LABELS["recall"][target]
    uses, not_uses = rows(labels["uses"]), rows(labels["not_uses"])
    candidates = {(c.file, c.line, c.name) for c in corpus_eval.candidates(SURFACE, target, THIRDPARTY)}
    assert candidates == uses | not_uses, "thirdparty_labels.json is out of date"
    found, _ = corpus_eval.reported(THIRDPARTY, target, SURFACE)
    recall = len(uses & found) / len(uses)
    REPORTS.append(f"check-api recall on other projects vs {target}: {len(uses & found)}/{len(uses)} = {recall:.3f}; "
                   f"reported non-uses {len(not_uses & found)}")
    assert recall >= MIN_RECALL and not not_uses & found


@pytest.mark.network  # Polygraphy's share of the count comes from its pinned wheel
def test_the_setup_page_states_the_measured_precision():
    """book/setup.md quotes how many reports were right over all three precision corpora."""
    targets = [SURFACE.resolve("11.1"), SURFACE.resolve("11"), SURFACE.resolve("10")]
    right = total = 0
    for name, sources in (("current", CURRENT), ("polygraphy", corpus_eval.polygraphy_sources())):
        good = rows(LABELS["precision"][name]["right"])
        for target in targets:
            found, _ = corpus_eval.reported(sources, target, SURFACE)
            right, total = right + len(found & good), total + len(found)
    good3 = {tuple(r[:4]) for r in THIRDPARTY_LABELS["precision"]["right"]}
    result = check_api.check_sources(THIRDPARTY, check_api.default_targets(SURFACE), SURFACE, deprecated=False)
    found3 = {(f.source, f.line, f.name, t) for f in result.findings for t in f.releases}
    right, total = right + len(found3 & good3), total + len(found3)
    page = " ".join((ROOT / "book" / "setup.md").read_text().split())
    assert f"{right} of its {total} reports were real problems" in page, (right, total)
