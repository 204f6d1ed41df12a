"""Recorded GPU results: raw samples plus provenance, saved as one JSON file per run (chapter 1
onwards; listed on the site's results gallery).

A GPU measurement made on one machine is stored in ``trtfaq/recorded/`` (package data, so a pip install
carries it to Colab) so that the CPU build can plot it
and say exactly where it came from. Schema ``trtfaq-result/1``::

    {"schema": "trtfaq-result/1", "experiment": str, "chapter": str, "title": str,
     "label": "measured with ..., not TensorRT", "provenance": {gpu, compute_capability, driver,
     cuda_runtime, libraries{name: version}, created (UTC ISO 8601), git_commit, command, python},
     "data": {...}}

``data`` holds raw timing samples in milliseconds wherever something was timed.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ResultError

SCHEMA = "trtfaq-result/1"
PROVENANCE_KEYS = ("gpu", "compute_capability", "driver", "cuda_runtime", "libraries", "created",
                   "git_commit", "command", "python")
TOP_KEYS = ("schema", "experiment", "chapter", "title", "label", "provenance", "data")


@dataclass(frozen=True)
class Result:
    path: Path
    experiment: str
    chapter: str
    title: str
    label: str
    provenance: dict
    data: dict

    def caption(self) -> str:
        """One line naming where the numbers come from, for figure captions."""
        p = self.provenance
        libs = ", ".join(f"{k} {v}" for k, v in sorted(p["libraries"].items()))
        return (f"{self.label}. {p['gpu']} (sm {p['compute_capability']}), driver {p['driver']}, "
                f"CUDA {p['cuda_runtime']}, {libs}; {p['created'][:10]}, commit {p['git_commit'][:10]}.")


def provenance(command: str, libraries: dict[str, str]) -> dict:
    """Provenance of a run on this machine (GPU facts from nvidia-smi and cuda-python)."""
    from . import env

    gpus, driver = env.gpus()
    if not gpus:
        raise ResultError("no GPU found: recorded results come from a GPU machine")
    return {"gpu": gpus[0].name, "compute_capability": gpus[0].compute_capability, "driver": driver,
            "cuda_runtime": env.cuda_runtime() or "unknown", "libraries": dict(libraries),
            "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
            "git_commit": os.environ.get("TRTFAQ_GIT_COMMIT") or _git_commit(),
            "command": command, "python": platform.python_version()}


def _git_commit() -> str:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def save(folder: Path, experiment: str, chapter: str, title: str, label: str, prov: dict, data: dict) -> Path:
    """Validate and write one run; returns the file, named ``<experiment>-<gpu>-<UTC time>.json``."""
    doc = {"schema": SCHEMA, "experiment": experiment, "chapter": chapter, "title": title, "label": label,
           "provenance": prov, "data": data}
    _validate(doc, f"result {experiment}")
    stamp = prov["created"].replace(":", "").replace("-", "")[:15]
    path = Path(folder) / f"{experiment}-{_slug(prov['gpu'])}-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _finite_samples(value, where: str) -> None:
    """Every list under a key named ``samples_ms`` must hold finite numbers >= 0."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "samples_ms":
                if not isinstance(v, list) or not v or not all(
                        isinstance(x, (int, float)) and math.isfinite(x) and x >= 0 for x in v):
                    raise ResultError(f"{where}: samples_ms must be a non-empty list of finite numbers >= 0")
            else:
                _finite_samples(v, where)
    elif isinstance(value, list):
        for v in value:
            _finite_samples(v, where)


def _validate(doc, where: str) -> None:
    if not isinstance(doc, dict) or "schema" not in doc:
        raise ResultError(f"{where} is not a recorded result of this book (no 'schema' key)")
    if doc["schema"] != SCHEMA:
        raise ResultError(f"{where} uses schema {doc['schema']!r}; this book reads {SCHEMA!r}")
    missing = [k for k in TOP_KEYS if k not in doc]
    if missing:
        raise ResultError(f"{where} lacks {', '.join(missing)}")
    prov = doc["provenance"]
    lacking = [k for k in PROVENANCE_KEYS if not isinstance(prov, dict) or k not in prov]
    if lacking:
        raise ResultError(f"{where} has incomplete provenance: no {', '.join(lacking)}")
    if not isinstance(prov["libraries"], dict) or not isinstance(doc["data"], dict):
        raise ResultError(f"{where}: provenance.libraries and data must be objects")
    _finite_samples(doc["data"], where)


def load(path: Path) -> Result:
    """Read and validate one result file; any problem is a one-line :class:`ResultError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultError(f"result file {path.name} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultError(f"result file {path.name} cannot be read ({type(exc).__name__})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultError(f"{path.name} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    _validate(doc, path.name)
    return Result(path, doc["experiment"], doc["chapter"], doc["title"], doc["label"], doc["provenance"],
                  doc["data"])


def default_folder() -> Path:
    """``recorded/`` inside the installed package: the recorded runs ship with it."""
    return Path(__file__).resolve().parent / "recorded"


def list_results(folder: Path | None = None, experiment: str | None = None) -> list[Result]:
    """Every result in ``folder``, oldest first; only ``experiment``'s if given."""
    folder = Path(folder) if folder is not None else default_folder()
    found = [load(p) for p in sorted(folder.glob("*.json"))]
    if experiment is not None:
        found = [r for r in found if r.experiment == experiment]
    return sorted(found, key=lambda r: r.provenance["created"])


def latest(experiment: str, folder: Path | None = None) -> Result:
    runs = list_results(folder, experiment)
    if not runs:
        raise ResultError(f"no recorded run of {experiment} in {folder or 'trtfaq/recorded/'}: record one on a GPU "
                          f"with `python -m trtfaq record {experiment}`")
    return runs[-1]


def gallery_table(runs: list[Result]) -> str:
    """A Markdown table of runs with their provenance (the site's results gallery)."""
    rows = ["| Run | Hardware | Software | Provenance |", "|---|---|---|---|"]
    for r in runs:
        p = r.provenance
        libs = ", ".join(f"{k} {v}" for k, v in sorted(p["libraries"].items()))
        rows.append(f"| **{r.experiment}**: {r.title}. *{r.label}.* | {p['gpu']} (sm {p['compute_capability']}), "
                    f"driver {p['driver']}, CUDA {p['cuda_runtime']} | Python {p['python']}, {libs} "
                    f"| {p['created']}, commit `{p['git_commit'][:10]}`, `{p['command']}`, file "
                    f"`trtfaq/recorded/{r.path.name}` |")
    return "\n".join(rows)
