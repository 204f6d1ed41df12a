"""The TensorRT Python API of every release from 8.6 to 11.x, shipped as data (``trtfaq check-api``).

``trtfaq/data/trt_api.json.gz`` holds, for each release, every class (with its bases), method and
function signature (parameter names, which have defaults), property (type, settable), enum member and
module constant of the ``tensorrt`` module, plus the deprecation notes of its docstrings. It is made by
``tests/trt_api/make_surface.py`` from stubs of the official ``tensorrt-*-bindings`` wheels (imported
for introspection only), so reading it needs no download, no compiler and no TensorRT.

Each entry is stored once with a bit mask of the releases that have it, so twenty-odd releases cost
little more than one.
"""
from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

#: the data file shipped with the package
DATA = Path(__file__).resolve().parents[1] / "data" / "trt_api.json.gz"
FORMAT = 1


@dataclass
class Param:
    name: str
    has_default: bool


@dataclass
class Signature:
    params: list[Param]           # without self
    varargs: bool = False         # *args or **kwargs: anything goes
    returns: str | None = None    # class name of the result, when it is one of the API's classes

    def accepts(self, n_positional: int, keywords: list[str]) -> bool:
        if self.varargs:
            return True
        if n_positional > len(self.params):
            return False
        names = [p.name for p in self.params]
        if any(k not in names[n_positional:] for k in keywords):
            return False
        covered = set(names[:n_positional]) | set(keywords)
        return all(p.has_default or p.name in covered for p in self.params)

    def __str__(self) -> str:
        if self.varargs:
            return "(*args, **kwargs)"
        return "(" + ", ".join(p.name + ("=…" if p.has_default else "") for p in self.params) + ")"


@dataclass
class ClassInfo:
    name: str
    bases: list[str] = field(default_factory=list)
    methods: dict[str, list[Signature]] = field(default_factory=dict)
    properties: dict[str, tuple[str | None, bool]] = field(default_factory=dict)  # name -> (type, settable)
    attributes: dict[str, str | None] = field(default_factory=dict)  # class attributes, enum members, nested
    nested: dict[str, str] = field(default_factory=dict)  # nested class short name -> qualified name


@dataclass
class API:
    version: str
    classes: dict[str, ClassInfo]
    functions: dict[str, list[Signature]]
    attributes: dict[str, str | None]  # module-level values (float32, __version__, ...) -> class name

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def mro(self, cls: str) -> list[ClassInfo]:
        out, todo = [], [cls]
        while todo:
            c = self.classes.get(todo.pop(0))
            if c is not None and c not in out:
                out.append(c)
                todo += c.bases
        return out

    def lookup(self, cls: str, attr: str):
        """``("method", [sigs]) | ("property", (type, settable)) | ("attribute", type) | None``."""
        for c in self.mro(cls):
            if attr in c.methods:
                return "method", c.methods[attr]
            if attr in c.properties:
                return "property", c.properties[attr]
            if attr in c.nested:
                return "class", c.nested[attr]
            if attr in c.attributes:
                return "attribute", c.attributes[attr]
        return None

    def module_lookup(self, attr: str):
        if attr in self.classes:
            return "class", attr
        if attr in self.functions:
            return "function", self.functions[attr]
        if attr in self.attributes:
            return "attribute", self.attributes[attr]
        return None

    def has(self, owner: str, name: str) -> bool:
        """Is ``owner.name`` part of this API? ``owner`` is a class name, or "" for the module."""
        if not owner:
            return name in self.classes or self.module_lookup(name) is not None
        return self.lookup(owner, name) is not None


# ----- compact text forms ------------------------------------------------------------------------
def encode_signature(sig: Signature) -> str:
    """``(network, config=…) -> ICudaEngine`` as ``network,config=>ICudaEngine``; varargs as ``*``."""
    text = "*" if sig.varargs else ",".join(p.name + ("=" if p.has_default else "") for p in sig.params)
    return text + (">" + sig.returns if sig.returns else "")


def decode_signature(text: str) -> Signature:
    head, _, returns = text.partition(">")
    if head == "*":
        return Signature([], varargs=True, returns=returns or None)
    params = [Param(p.rstrip("="), p.endswith("=")) for p in head.split(",") if p]
    return Signature(params, returns=returns or None)


def _entries(api: API):
    """(owner, kind, name, payload) of every part of ``api``; owner "" is the module."""
    for qual, info in api.classes.items():
        yield qual, "c", "", ",".join(info.bases)
        for name, sigs in info.methods.items():
            yield qual, "m", name, ";".join(encode_signature(s) for s in sigs)
        for name, (typ, settable) in info.properties.items():
            yield qual, "p", name, (typ or "") + ("=" if settable else "")
        for name, typ in info.attributes.items():
            yield qual, "a", name, typ or ""
        for name, nested in info.nested.items():
            yield qual, "n", name, nested
    for name, sigs in api.functions.items():
        yield "", "f", name, ";".join(encode_signature(s) for s in sigs)
    for name, typ in api.attributes.items():
        yield "", "v", name, typ or ""


def encode(apis: list[API], deprecated: dict[str, dict[str, str]], source: str) -> dict:
    """The data file's content: ``deprecated`` maps a release to ``{"Owner.name" or "Owner": note}``."""
    masks: dict[tuple[str, str, str, str], int] = {}
    for i, api in enumerate(apis):
        for key in _entries(api):
            masks[key] = masks.get(key, 0) | (1 << i)
    entries: dict[str, list] = {}
    for (owner, kind, name, payload), mask in masks.items():
        entries.setdefault(owner, []).append([kind, name, payload, mask])
    notes: dict[tuple[str, str], int] = {}
    for i, api in enumerate(apis):
        for key, note in deprecated.get(api.version, {}).items():
            notes[(key, note)] = notes.get((key, note), 0) | (1 << i)
    return {"format": FORMAT, "source": source, "releases": [a.version for a in apis], "entries": entries,
            "deprecated": [[key, note, mask] for (key, note), mask in notes.items()]}


def write(data: dict, path: Path) -> None:
    text = json.dumps(data, separators=(",", ":"), sort_keys=False)
    # mtime=0 keeps the file byte-identical when the content is (a regenerated file shows no diff)
    path.write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))


class Surface:
    """Every release in the data: ``api(release)`` rebuilds one release's :class:`API`."""

    def __init__(self, data: dict):
        if data.get("format") != FORMAT:
            raise ValueError(f"unsupported TensorRT API data format {data.get('format')!r}")
        self.releases: list[str] = data["releases"]
        self.source: str = data.get("source", "")
        self._entries: dict[str, list] = data["entries"]
        self._deprecated = data["deprecated"]
        self._apis: dict[str, API] = {}

    def index(self, release: str) -> int:
        return self.releases.index(release)

    def api(self, release: str) -> API:
        if release not in self._apis:
            self._apis[release] = self._build(release)
        return self._apis[release]

    def _build(self, release: str) -> API:
        bit = 1 << self.index(release)
        classes: dict[str, ClassInfo] = {}
        functions: dict[str, list[Signature]] = {}
        attributes: dict[str, str | None] = {}
        for owner, items in self._entries.items():
            mine = [it for it in items if it[3] & bit]
            if not owner:
                for kind, name, payload, _ in mine:
                    if kind == "f":
                        functions[name] = [decode_signature(s) for s in payload.split(";")]
                    else:
                        attributes[name] = payload or None
                continue
            if not any(kind == "c" for kind, *_ in mine):
                continue
            info = ClassInfo(owner)
            for kind, name, payload, _ in mine:
                if kind == "c":
                    info.bases = payload.split(",") if payload else []
                elif kind == "m":
                    info.methods[name] = [decode_signature(s) for s in payload.split(";")]
                elif kind == "p":
                    info.properties[name] = (payload.rstrip("=") or None, payload.endswith("="))
                elif kind == "a":
                    info.attributes[name] = payload or None
                elif kind == "n":
                    info.nested[name] = payload
            classes[owner] = info
        return API(release, classes, functions, attributes)

    def deprecation(self, release: str, owner: str, name: str = "") -> str | None:
        """The docstring's deprecation note of ``owner.name`` (or class ``owner``) in ``release``."""
        bit = 1 << self.index(release)
        key = f"{owner}.{name}" if owner and name else (owner or name)
        for k, note, mask in self._deprecated:
            if k == key and mask & bit:
                return note
        return None

    def present(self, owner: str, name: str) -> list[str]:
        """The releases whose API has ``owner.name`` (``owner`` "" for the module), oldest first."""
        return [r for r in self.releases if self.api(r).has(owner, name)]

    def resolve(self, spec: str) -> str:
        """A release named fully (``10.16.1.11``) or by a prefix (``10``, ``10.8``, ``8.6``): the newest match;
        ``latest`` is the newest release."""
        if spec == "latest":
            return self.releases[-1]
        spec = spec.strip()
        found = [r for r in self.releases if r == spec or r.startswith(spec + ".")]
        if not found:
            raise LookupError(f"no TensorRT release {spec!r} in the API data (it has {', '.join(self.releases)})")
        return found[-1]

    def newest_of_each_major(self) -> list[str]:
        out: dict[str, str] = {}
        for r in self.releases:
            out[r.split(".")[0]] = r
        return list(out.values())


@functools.lru_cache(maxsize=4)
def load(path: Path = DATA) -> Surface:
    return Surface(json.loads(gzip.decompress(Path(path).read_bytes())))
