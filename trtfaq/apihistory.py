"""When a TensorRT Python name came and went, release by release (chapter 9 onwards).

Reads the API data the package ships (``trtfaq/data/trt_api.json.gz``, made from the official
``tensorrt-*-bindings`` wheels of 8.6.1 and of every 10.x and 11.x minor release on PyPI; see
:mod:`trtfaq.tools.apisurface`), so the answer comes from the real bindings without installing TensorRT.
"""
from __future__ import annotations

from .errors import InputError
from .tables import table


def _surface():
    from .tools import apisurface

    return apisurface.load()


def _split(qualified: str) -> tuple[str, str]:
    if not isinstance(qualified, str) or not qualified.strip():
        raise InputError(f"name a TensorRT class or member, e.g. 'DataType.INT4' or 'UffParser', got {qualified!r}")
    owner, _, name = qualified.strip().rpartition(".")
    return owner, name


def releases_with(qualified: str) -> list[str]:
    """The releases whose ``tensorrt`` module has ``qualified`` (``"DataType.INT4"``, ``"UffParser"``,
    ``"OnnxParser.supports_model"``), oldest first (chapter 9)."""
    owner, name = _split(qualified)
    surface = _surface()
    if owner and owner not in surface.api(surface.releases[-1]).classes and not surface.present("", owner):
        raise InputError(f"TensorRT has no class {owner!r} in any release of the data: check the spelling")
    return surface.present(owner, name)


def span(found: list[str]) -> str:
    """Releases as runs of consecutive releases of the data: ``"10.0.1 - 11.4.0.106"``, ``"8.6.1"``,
    ``"none"`` (chapter 9)."""
    all_releases = _surface().releases
    if not found:
        return "none"
    idx = sorted(all_releases.index(r) for r in found)
    runs, start = [], idx[0]
    for a, b in zip(idx, idx[1:] + [None]):
        if b != a + 1:
            runs.append(all_releases[start] if start == a else f"{all_releases[start]} - {all_releases[a]}")
            start = b
    return ", ".join(runs)


def history_table(names: list[str]) -> str:
    """One row per name: the releases that have it, and the deprecation note of the newest release that
    still has it (from TensorRT's own docstrings) (chapter 9)."""
    surface = _surface()
    rows = []
    for qualified in names:
        found = releases_with(qualified)
        owner, name = _split(qualified)
        note = surface.deprecation(found[-1], owner, name) if found else None
        rows.append([qualified, span(found), note or "-"])
    return table(["name", "in the Python bindings of", "deprecation note (newest release with it)"], rows)


def data_releases() -> list[str]:
    """Every release the data covers, oldest first (chapter 9)."""
    return list(_surface().releases)
