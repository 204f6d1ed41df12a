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
    if not isinstance(command, str) or not command.strip():
        raise ResultError(f"command must be the command line that made the run, got {command!r}")
    if not isinstance(libraries, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in libraries.items()):
        raise ResultError("libraries must map package names to version strings")
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
    """Validate and write one run; returns the file, named ``<experiment>-<gpu>-<UTC time>.json``.

    The file is written to a temporary name and linked into place, so it appears complete or not
    at all, and never replaces an earlier run: a second run saved in the same second gets ``-2``,
    ``-3``, ... Data that JSON cannot hold (NaN, inf, arrays, objects) is a one-line error.
    """
    for name, value in (("experiment", experiment), ("chapter", chapter), ("title", title), ("label", label)):
        if not isinstance(value, str) or not value.strip():
            raise ResultError(f"{name} must be a non-empty string, got {value!r}")
    if folder is None or not isinstance(folder, (str, os.PathLike)) or not str(folder).strip():
        raise ResultError(f"folder must be a path, got {folder!r}")
    doc = {"schema": SCHEMA, "experiment": experiment, "chapter": chapter, "title": title, "label": label,
           "provenance": prov, "data": data}
    _validate(doc, f"result {experiment}")
    try:
        text = json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise ResultError(f"result {experiment} cannot be saved as JSON: {exc}") from None
    stamp = prov["created"].replace(":", "").replace("-", "")[:15]
    base = f"{_slug(experiment)}-{_slug(prov['gpu'])}-{stamp}"
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return _write_new(folder, base, text.encode("utf-8"))
    except OSError as exc:
        raise ResultError(f"cannot write the result into {folder}: {exc.strerror or exc}") from None


def _write_new(folder: Path, base: str, data: bytes) -> Path:
    """Write ``data`` to ``folder/base.json`` (or ``base-2.json``, ...): a temporary file, then a hard link
    to a name that does not exist yet (atomic, never overwriting)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        for n in range(1, 1000):
            path = folder / (f"{base}.json" if n == 1 else f"{base}-{n}.json")
            try:
                os.link(tmp, path)
                return path
            except FileExistsError:
                continue
        raise ResultError(f"{folder} already holds 999 runs named {base}: clean it up")
    finally:
        Path(tmp).unlink(missing_ok=True)


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
    for key in ("experiment", "chapter", "title", "label"):
        if not isinstance(doc[key], str) or not doc[key].strip():
            raise ResultError(f"{where}: {key} must be a non-empty string")
    texts = [k for k in PROVENANCE_KEYS if k != "libraries" and not isinstance(prov[k], str)]
    if texts:
        raise ResultError(f"{where}: provenance {', '.join(texts)} must be strings")
    try:
        _dt.datetime.fromisoformat(prov["created"])
    except ValueError:
        raise ResultError(f"{where}: provenance created {prov['created']!r} is not an ISO 8601 time") from None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in prov["libraries"].items()):
        raise ResultError(f"{where}: provenance libraries must map names to version strings")
    _finite_samples(doc["data"], where)


def load(path: Path) -> Result:
    """Read and validate one result file; any problem is a one-line :class:`ResultError`."""
    if path is None or not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise ResultError(f"expected the path of a result file, got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise ResultError(f"{path.name} is a folder, not a result file")
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


def _sequence(path: Path) -> int:
    """2 for ``...-2.json`` (a second run saved in the same second), 1 otherwise."""
    m = re.search(r"T\d{6}-(\d+)\.json$", path.name)
    return int(m.group(1)) if m else 1


def list_results(folder: Path | None = None, experiment: str | None = None) -> list[Result]:
    """Every result in ``folder``, oldest first; only ``experiment``'s if given."""
    if experiment is not None and (not isinstance(experiment, str) or not experiment.strip()):
        raise ResultError(f"experiment must be a name such as 'ch06-precision', got {experiment!r}")
    if folder is not None and not isinstance(folder, (str, os.PathLike)):
        raise ResultError(f"folder must be a path, got {type(folder).__name__}")
    folder = Path(folder) if folder is not None else default_folder()
    if not folder.is_dir():
        raise ResultError(f"results folder {folder.name!r} does not exist")
    found = [load(p) for p in sorted(folder.glob("*.json"))]
    if experiment is not None:
        found = [r for r in found if r.experiment == experiment]
    return sorted(found, key=lambda r: (_dt.datetime.fromisoformat(r.provenance["created"]), _sequence(r.path)))


def latest(experiment: str, folder: Path | None = None) -> Result:
    """The newest recorded run of ``experiment``."""
    if not isinstance(experiment, str) or not experiment.strip():
        raise ResultError(f"experiment must be a name such as 'ch06-precision', got {experiment!r}")
    runs = list_results(folder, experiment)
    if not runs:
        raise ResultError(f"no recorded run of {experiment} in {folder or 'trtfaq/recorded/'}: record one on a GPU "
                          f"with `python -m trtfaq record {experiment}`")
    return runs[-1]


def _cell(text) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def gallery_table(runs: list[Result]) -> str:
    """A Markdown table of runs with their provenance (the site's results gallery)."""
    if not isinstance(runs, (list, tuple)) or not all(isinstance(r, Result) for r in runs):
        raise ResultError("gallery_table takes a list of recorded runs (results.list_results())")
    rows = ["| Run | Hardware | Software | Provenance |", "|---|---|---|---|"]
    for r in runs:
        p = {k: _cell(v) for k, v in r.provenance.items() if k != "libraries"}
        libs = ", ".join(f"{_cell(k)} {_cell(v)}" for k, v in sorted(r.provenance["libraries"].items()))
        rows.append(f"| **{_cell(r.experiment)}**: {_cell(r.title)}. *{_cell(r.label)}.* | {p['gpu']} "
                    f"(sm {p['compute_capability']}), driver {p['driver']}, CUDA {p['cuda_runtime']} "
                    f"| Python {p['python']}, {libs} | {p['created']}, commit `{p['git_commit'][:10]}`, "
                    f"`{p['command']}`, file `trtfaq/recorded/{_cell(r.path.name)}` |")
    return "\n".join(rows)
