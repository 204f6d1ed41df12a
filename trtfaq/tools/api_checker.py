"""Find every use of the TensorRT Python API in Python code and check it against one release's API.

The engine behind ``trtfaq check-api`` (readers' own code) and the book's own API test
(``tests/trt_api``). What is checked, per release:

- names under the module (``trt.X``, ``trt.X.Y``, ``from tensorrt import X``: classes, enum members,
  functions, constants);
- attributes and methods used on TensorRT objects, following types through assignments, ``with ... as``,
  annotations, return annotations of the API (``builder = trt.Builder(...)``,
  ``config = builder.create_builder_config()``, ...) and the return values of the file's own functions;
- assignments to attributes (``config.max_workspace_size = ...``: must exist and be settable);
- call arity and keyword names against the pybind11 signatures where the target is known; the
  methods a subclass of a TensorRT interface overrides; ``len()`` of a TensorRT object.

A use that a release lacks is not reported for it when it sits in code that cannot run there:
branches of ``if``, ``x if c else y`` and ``a and b`` decided by ``trt_major(trt) >= 11`` (the book's
helper), by ``trt.__version__`` however it is parsed (``int(trt.__version__.split(".")[0]) >= 10``,
``version.parse(...)``, ``mod.version(...)``, values and ``trt_version()``-style helpers computed from
it), by ``hasattr(trt.BuilderFlag, "FP16")`` or ``"FP16" in trt.BuilderFlag.__members__``; the code
after ``if ...: raise`` (or ``sys.exit()``); a test under ``@pytest.mark.skipif(...)``; the body and
the handler of ``try: ... except AttributeError`` and ``with contextlib.suppress(AttributeError)``; a
lambda or function handed to a helper that calls it inside such a ``try`` (Polygraphy's ``try_run``); a
private function (``_build_v1``) that only such code calls.

Optional, for readers' code: ``fallbacks`` (older releases) keep types known past a call the target
lacks (``engine = builder.build_engine(...)`` is reported, and ``engine`` stays an ``ICudaEngine``);
``guess`` reports a removed name used on an object of unknown type (``def infer(engine):
engine.get_binding_shape(0)``) when the name exists on no class of the target and is specific to
TensorRT, or when the variable's name says which class it holds (``engine``, ``context``, ``config``).
"""
from __future__ import annotations

import ast
import contextlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .apisurface import API

MODULE = "<module>"   # type tag of the tensorrt module itself
LAZY = "<lazy>"       # a lazily imported tensorrt (Polygraphy's ``mod.lazy_import("tensorrt>=8.5")``)
MODULES = (MODULE, LAZY)
#: submodules of the ``tensorrt`` package, attributes of it once imported (``from .tensorrt import *`` in
#: its ``__init__.py`` binds the compiled module ``tensorrt.tensorrt``; ``tensorrt.plugin`` since 10.6)
SUBMODULES = {"tensorrt", "plugin"}
CLASS = "class:"       # type tag prefix of a class object (e.g. "class:BuilderFlag")
#: module names whose import gives the ``tensorrt`` API (the lean and dispatch runtimes are subsets)
TRT_MODULES = ("tensorrt", "tensorrt_lean", "tensorrt_dispatch")


@dataclass(frozen=True)
class Problem:
    where: str
    version: str
    message: str
    # what the problem is about, for the reader-facing command (not part of equality)
    owner: str = field(default="", compare=False)   # class, or "tensorrt" for the module
    name: str = field(default="", compare=False)    # the attribute / method / override
    kind: str = field(default="", compare=False)    # missing, store, readonly, method-store, call, override, len
    guess: bool = field(default=False, compare=False)  # the receiver's type was guessed, not inferred
    line: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{self.where}: [TensorRT {self.version}] {self.message}"


@dataclass(frozen=True)
class Use:
    """A use that the release has (for deprecation notes): ``owner.name`` at ``line``."""
    line: int
    owner: str
    name: str


@dataclass
class Source:
    """Python code to check; ``where(lineno)`` turns a line of ``code`` into a location for humans."""

    name: str
    code: str
    lines: list[str] = field(default_factory=list)  # location per line (for notebooks)

    def where(self, lineno: int) -> str:
        if self.lines and 0 < lineno <= len(self.lines):
            return f"{self.name}:{self.lines[lineno - 1]}"
        return f"{self.name}:{lineno}"


def python_source(path: Path, root: Path) -> Source:
    return Source(str(path.relative_to(root)), path.read_text())


def notebook_source(path: Path, root: Path) -> Source:
    """All code cells of a notebook as one module (cells share a namespace), magics blanked out."""
    nb = json.loads(path.read_text())
    return notebook_source_from(nb, str(path.relative_to(root)))


def notebook_source_from(nb: dict, name: str) -> Source:
    code, where = [], []
    number = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        number += 1
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        for i, line in enumerate(text.splitlines(), start=1):
            stripped = line.lstrip()
            code.append("" if stripped.startswith(("%", "!")) else line)
            where.append(f"code cell {number}, line {i}")
    return Source(name, "\n".join(code) + "\n", where)


# ----- the value of version tests ------------------------------------------------------------------
class _Unknown(Exception):
    """The expression's value does not follow from the TensorRT version alone."""


class _Version:
    """What ``packaging.version.parse``, ``LooseVersion``, ``mod.version`` make of a version string."""

    def __init__(self, parts: tuple[int, ...]):
        self.parts = parts

    @classmethod
    def of(cls, value) -> _Version:
        if isinstance(value, _Version):
            return value
        if not isinstance(value, str):
            raise _Unknown
        nums = re.findall(r"\d+", value.split("+")[0])
        if not nums:
            raise _Unknown
        parts = [int(n) for n in nums]
        while len(parts) > 1 and parts[-1] == 0:
            parts.pop()
        return cls(tuple(parts))

    def __getitem__(self, index):  # trt_version()[0]: the major version
        try:
            return (self.parts + (0, 0, 0))[index]
        except (TypeError, IndexError) as exc:
            raise _Unknown from exc

    def _cmp(self, other, op):
        return op(self.parts, _Version.of(other).parts)

    def __lt__(self, other):
        return self._cmp(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._cmp(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._cmp(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._cmp(other, lambda a, b: a >= b)

    def __eq__(self, other):
        try:
            return self._cmp(other, lambda a, b: a == b)
        except _Unknown:
            return False

    def __hash__(self):
        return hash(self.parts)


#: helpers that return the TensorRT version (``trt_version() >= "10.0"``), recognised by name
VERSION_FUNC = re.compile(r"^_*(get_)?(trt|tensorrt)_?version$", re.I)
_VERSION_FUNCS = {"parse", "Version", "LooseVersion", "StrictVersion", "version", "parse_version"}
_STR_METHODS = {"split", "rsplit", "strip", "lstrip", "rstrip", "startswith", "endswith", "replace", "partition",
                "lower", "upper", "find", "count", "isdigit"}
_BUILTINS = {"int": int, "float": float, "str": str, "tuple": tuple, "list": list, "len": len, "bool": bool,
             "min": min, "max": max, "abs": abs}
_CMP = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
        ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
        ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


class _Analyzer(ast.NodeVisitor):
    def __init__(self, api: API, source: Source, report: Callable[[Problem], None],
                 fallbacks: Iterable[API] = (), guess: Callable | None = None):
        self.api, self.source, self.report = api, source, report
        self.fallbacks = list(fallbacks)
        self.guesser = guess
        self.scopes: list[dict[str, str | None]] = [{}]
        self.self_types: dict[str, str] = {}
        self.checked = 0
        self.names: set[str] = set()
        self.uses: list[Use] = []
        self.consts: list[dict[str, object]] = [{}]   # names holding a value computed from trt.__version__
        self.func_types: dict[str, str] = {}           # the file's functions that return a TensorRT object
        self.returns: list[list[str | None]] = []
        self.foreign: set[str] = set()                 # names bound by importing another module
        self.guarded = 0                               # inside try: ... except AttributeError
        self.probed: list[str] = []                    # receivers a surrounding hasattr() test asks about
        self.pending: list[Problem] = []               # reported when the whole file has been seen
        self.calls: list[tuple[str, int, bool]] = []  # (function name, line, on a path that runs)
        self.defs: dict[str, list[tuple[int, int]]] = {}  # function name -> line ranges of its definitions
        self.imports_trt = False
        self.guessed: set[str] = set()                 # variables holding a duck-typed result
        self.version_funcs: dict[str, ast.expr] = {}   # this file's functions returning f(trt.__version__)
        # TensorRT-RTX has its own API (not in the data): in a file that names it, a module name that no
        # TensorRT release has is not reported (torch_tensorrt imports either under the name ``tensorrt``)
        self.maybe_rtx = "tensorrt_rtx" in source.code
        self.module_names: set[str] | None = None      # tensorrt.<name> of every release (known_anywhere)
        self.member_names: set[str] = set()            # distinctive member names of TensorRT classes (unchecked)
        self.unchecked: list[Use] = []                 # such names used on objects of unknown type
        self.guarded_nodes: set[int] = set()           # lambdas passed to a guard wrapper (find_guard_wrappers)
        self.guarded_funcs: set[str] = set()           # functions passed to a guard wrapper by name

    # ----- types ---------------------------------------------------------------------------------
    def lookup_var(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]  # None here means "bound in this scope, type unknown"
        return None

    def bind(self, target, typ: str | None, guessed: bool = False) -> None:
        """Record what ``target`` now holds; unpacking and unknown values shadow with None."""
        if isinstance(target, ast.Name):
            self.scopes[-1][target.id] = typ
            if guessed and typ is not None:
                self.guessed.add(target.id)
            else:
                self.guessed.discard(target.id)
            self.foreign.discard(target.id)
            for consts in self.consts:
                consts.pop(target.id, None)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.bind(elt, None)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None)
        elif (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"
              and typ is not None):
            self.self_types[target.attr] = typ

    def resolve_any(self, base: str | None, attr: str):
        """``resolve`` in the target release, else in the fallback releases (to keep following types)."""
        found = self.resolve(base, attr)
        if found is None and self.fallbacks:
            for api in self.fallbacks:
                found = self.resolve(base, attr, api)
                if found is not None:
                    break
        return found

    def type_of(self, node) -> str | None:
        """Type tag of an expression: MODULE, ``class:X``, an API class name, or None (unknown)."""
        if isinstance(node, ast.Name):
            return self.lookup_var(node.id)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                return self.self_types.get(node.attr)
            base = self.type_of(node.value)
            if base in MODULES and node.attr == "tensorrt":
                return base
            found = self.resolve_any(base, node.attr)
            if found is None:
                return None
            kind, info = found
            if kind == "class":
                return CLASS + info
            typ = info if kind == "attribute" else info[0] if kind == "property" else None
            if typ and base not in (*MODULES, None) and not base.startswith(CLASS) and self.implementable(typ):
                # config.int8_calibrator, builder.logger: whatever (sub)class the code gave TensorRT
                return None
            return typ
        if isinstance(node, ast.Call):
            func = node.func
            fname = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if fname == "require_tensorrt":
                return MODULE
            if fname == "lazy_import_trt":
                return LAZY
            if fname in ("import_module", "lazy_import") and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) \
                    and re.match(r"(tensorrt|tensorrt_lean|tensorrt_dispatch)\b(?!\.)", node.args[0].value):
                return MODULE if fname == "import_module" else LAZY
            if isinstance(func, ast.Name) and func.id in self.func_types and self.lookup_var(func.id) is None:
                return self.func_types[func.id]
            ftype = self.type_of(func)
            if ftype and ftype.startswith(CLASS):
                return ftype[len(CLASS):]
            if isinstance(func, ast.Attribute):
                receiver = self.type_of(func.value)
                found = self.resolve_any(receiver, func.attr)
                if found and found[0] in ("method", "function"):
                    returns = {s.returns for s in found[1]}
                    return returns.pop() if len(returns) == 1 else None
                if receiver is None and self.duck_typing(node):
                    return self.guesser.returns(func.attr)  # type: ignore[union-attr]
        return None

    def duck_typing(self, node) -> bool:
        """``network.add_convolution(...)`` on a ``network`` of unknown type: a method that only one
        TensorRT class has (``guess`` mode) tells what it returns; uses of the result are guesses."""
        if not (self.guesser is not None and self.imports_trt and isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute) and hasattr(self.guesser, "returns")):
            return False
        receiver = node.func.value
        if isinstance(receiver, ast.Name) and (receiver.id in ("self", "cls") or receiver.id in self.foreign):
            return False
        return self.type_of(receiver) is None and self.guesser.returns(node.func.attr) is not None

    def guessy(self, node) -> bool:
        """Is the type of ``node`` known only by duck typing (see ``duck_typing``)?"""
        while True:
            if isinstance(node, ast.Name):
                return node.id in self.guessed
            if isinstance(node, ast.Call):
                if self.duck_typing(node):
                    return True
                node = node.func
            elif isinstance(node, (ast.Attribute, ast.Subscript)):
                node = node.value
            else:
                return False

    def implementable(self, cls: str) -> bool:
        """Can Python code subclass ``cls`` (an interface such as ``IInt8Calibrator``, ``IGpuAllocator``)?"""
        for api in [self.api, *self.fallbacks]:
            info = api.classes.get(cls)
            if info is not None:
                return "__init__" in info.methods and not any(
                    isinstance(v, str) and v == cls for v in info.attributes.values())
        return False

    def known_anywhere(self, name: str) -> bool:
        """Does any release have ``tensorrt.<name>`` (``module_names``, set by the caller; else the target and
        the fallbacks)?"""
        if self.module_names is not None:
            return name in self.module_names
        return any(api.module_lookup(name) is not None for api in [self.api, *self.fallbacks])

    def resolve(self, base: str | None, attr: str, api: API | None = None):
        api = api or self.api
        if base is None or attr.startswith("__"):
            return None
        if base in MODULES:
            return api.module_lookup(attr)
        cls = base[len(CLASS):] if base.startswith(CLASS) else base
        if cls not in api.classes:
            return None
        return api.lookup(cls, attr)

    # ----- version gates -------------------------------------------------------------------------
    def _mentions_version(self, node) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and sub.attr == "__version__" and self.type_of(sub.value) in MODULES:
                return True
            if isinstance(sub, ast.Name) and self.const_lookup(sub.id) is not None:
                return True
            if isinstance(sub, ast.Call) and self.version_call(sub) is not None:
                return True
        return False

    def version_call(self, node: ast.Call):
        """``trt_version()``, ``get_trt_version()`` (by that name, wherever defined), or a function of this
        file that returns an expression of ``trt.__version__``: the expression to evaluate, else None."""
        if node.args or node.keywords:
            return None
        name = self.call_name(node)
        if isinstance(node.func, ast.Name) and name in self.version_funcs:
            return self.version_funcs[name]
        if VERSION_FUNC.match(name):
            return ast.Call(func=ast.Name(id="<version>"), args=[ast.Attribute(value=ast.Name(id="<trt>"),
                                                                              attr="__version__")], keywords=[])
        return None

    def const_lookup(self, name: str):
        for consts in reversed(self.consts):
            if name in consts:
                return consts
        return None

    def value(self, node):
        """The value of an expression computed from ``trt.__version__`` alone; raises _Unknown otherwise."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Attribute):
            if node.attr == "__version__" and (self.type_of(node.value) in MODULES
                                               or isinstance(node.value, ast.Name) and node.value.id == "<trt>"):
                return self.api.version
            base = self.value(node.value)
            if isinstance(base, _Version) and node.attr in ("major", "minor", "micro", "release"):
                parts = base.parts + (0, 0, 0)
                return {"major": parts[0], "minor": parts[1], "micro": parts[2], "release": base.parts}[node.attr]
            raise _Unknown
        if isinstance(node, ast.Name):
            consts = self.const_lookup(node.id)
            if consts is None:
                raise _Unknown
            return consts[node.id]
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self.value(e) for e in node.elts)
        if isinstance(node, ast.Subscript):
            base = self.value(node.value)
            sl = node.slice
            if isinstance(sl, ast.Slice):
                parts = [self.value(p) if p is not None else None for p in (sl.lower, sl.upper, sl.step)]
                index = slice(*parts)
            else:
                index = self.value(sl)
            try:
                return base[index]
            except (TypeError, IndexError, KeyError) as exc:
                raise _Unknown from exc
        if isinstance(node, ast.Compare):
            left = self.value(node.left)
            for op, comp in zip(node.ops, node.comparators):
                right = self.value(comp)
                fn = _CMP.get(type(op))
                if fn is None:
                    raise _Unknown
                try:
                    if not fn(left, right):
                        return False
                except TypeError as exc:
                    raise _Unknown from exc
                left = right
            return True
        if isinstance(node, ast.BoolOp):
            values = [self.value(v) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not self.value(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "<version>":
            return _Version.of(self.value(node.args[0]))
        if isinstance(node, ast.Call) and self.version_call(node) is not None:
            return self.value(self.version_call(node))
        if isinstance(node, ast.Call) and not node.keywords:
            func = node.func
            if isinstance(func, ast.Name) and func.id == "map" and len(node.args) == 2 \
                    and isinstance(node.args[0], ast.Name) and node.args[0].id in ("int", "float", "str"):
                conv = _BUILTINS[node.args[0].id]
                try:
                    return tuple(conv(x) for x in self.value(node.args[1]))
                except (TypeError, ValueError) as exc:
                    raise _Unknown from exc
            fname = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if fname in _VERSION_FUNCS and len(node.args) == 1:
                return _Version.of(self.value(node.args[0]))
            if isinstance(func, ast.Name) and func.id in _BUILTINS:
                args = [self.value(a) for a in node.args]
                try:
                    return _BUILTINS[func.id](*args)
                except (TypeError, ValueError) as exc:
                    raise _Unknown from exc
            if isinstance(func, ast.Attribute) and func.attr in _STR_METHODS:
                base = self.value(func.value)
                if isinstance(base, str):
                    args = [self.value(a) for a in node.args]
                    try:
                        return getattr(base, func.attr)(*args)
                    except (TypeError, ValueError) as exc:
                        raise _Unknown from exc
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)) and len(node.generators) == 1 \
                and not node.generators[0].ifs and isinstance(node.generators[0].target, ast.Name):
            gen = node.generators[0]
            items = self.value(gen.iter)
            out = []
            self.consts.append({})
            try:
                for item in items:
                    self.consts[-1][gen.target.id] = item
                    out.append(self.value(node.elt))
            except TypeError as exc:
                raise _Unknown from exc
            finally:
                self.consts.pop()
            return tuple(out) if isinstance(node, ast.GeneratorExp) else list(out)
        raise _Unknown

    def decide(self, test) -> bool | None:
        """True/False when ``test`` is decided by the TensorRT version, else None."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            v = self.decide(test.operand)
            return None if v is None else not v
        if isinstance(test, ast.BoolOp):
            values = [self.decide(v) for v in test.values]
            if isinstance(test.op, ast.And):
                return False if False in values else (True if all(v is True for v in values) else None)
            return True if True in values else (False if all(v is False for v in values) else None)
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Call) \
                and isinstance(test.left.func, ast.Name) and test.left.func.id == "trt_major" \
                and isinstance(test.comparators[0], ast.Constant):
            n, op = test.comparators[0].value, type(test.ops[0])
            if not isinstance(n, int):
                return None
            m = self.api.major
            return {ast.GtE: m >= n, ast.Gt: m > n, ast.LtE: m <= n, ast.Lt: m < n, ast.Eq: m == n,
                    ast.NotEq: m != n}.get(op)
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "hasattr" \
                and len(test.args) == 2 and isinstance(test.args[1], ast.Constant) \
                and isinstance(test.args[1].value, str):
            base = self.type_of(test.args[0])
            if base is not None:
                return self.resolve(base, test.args[1].value) is not None
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.In, ast.NotIn)) \
                and isinstance(test.left, ast.Constant) and isinstance(test.left.value, str):
            # "FP16" in trt.BuilderFlag.__members__ (or .__members__.keys(), or dir(trt.BuilderFlag))
            owner = test.comparators[0]
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Attribute) and owner.func.attr == "keys":
                owner = owner.func.value
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "dir" \
                    and len(owner.args) == 1:
                owner = ast.Attribute(value=owner.args[0], attr="__members__")
            if isinstance(owner, ast.Attribute) and owner.attr == "__members__":
                base = self.type_of(owner.value)
                if base is not None:
                    has = self.resolve(base, test.left.value) is not None
                    return has if isinstance(test.ops[0], ast.In) else not has
        if self._mentions_version(test):
            try:
                return bool(self.value(test))
            except (_Unknown, RecursionError, ArithmeticError, AttributeError, OverflowError):
                return None
        return None

    def run_block(self, body) -> bool:
        """Visit statements in order; stop after one that always leaves the block. True if it did."""
        for i, stmt in enumerate(body):
            if isinstance(stmt, ast.If):
                decided = self.decide(stmt.test)
                if decided is None:
                    self.visit(stmt.test)
                    with self.probing(stmt.test):
                        a = self.run_block(stmt.body)
                        b = self.run_block(stmt.orelse)
                    if a and b and stmt.orelse:
                        self.skip(body[i + 1:])
                        return True
                    continue
                self.skip(stmt.orelse if decided else stmt.body)
                if self.run_block(stmt.body if decided else stmt.orelse):
                    self.skip(body[i + 1:])
                    return True
                continue
            self.visit(stmt)
            if isinstance(stmt, (ast.Raise, ast.Return, ast.Continue, ast.Break)) or self.exits(stmt):
                self.skip(body[i + 1:])
                return True
        return False

    def skip(self, nodes) -> None:
        """Code that cannot run on this release: remember the functions it calls (see ``finish``)."""
        for node in nodes:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call):
                    name = self.call_name(sub)
                    if name:
                        self.calls.append((name, sub.lineno, False))

    @staticmethod
    def call_name(node: ast.Call) -> str:
        func = node.func
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""

    @contextlib.contextmanager
    def probing(self, test):
        """Inside ``if hasattr(x, "name")`` (x of unknown type) the code knows x varies: no guesses on x."""
        added = [ast.unparse(c.args[0]) for c in ast.walk(test) if isinstance(c, ast.Call)
                 and isinstance(c.func, ast.Name) and c.func.id in ("hasattr", "getattr") and c.args]
        self.probed += added
        try:
            yield
        finally:
            del self.probed[len(self.probed) - len(added):]

    def finish(self) -> None:
        """Report, leaving out code in private functions that only unreachable code calls
        (``def _build_v1(): ...`` called only under ``if version < 10``)."""
        dead: set[str] = set()

        def inside_dead(line: int) -> bool:
            return any(a <= line <= b for n in dead for a, b in self.defs.get(n, ()))

        called = {name for name, _, _ in self.calls}
        while True:
            live = {name for name, line, runs in self.calls if runs and not inside_dead(line)}
            new = {n for n in self.defs if n.startswith("_") and not n.startswith("__") and n in called
                   and n not in live} - dead
            if not new:
                break
            dead |= new
        for p in self.pending:
            if not inside_dead(p.line):
                self.report(p)
        self.uses = [u for u in self.uses if not inside_dead(u.line)]
        self.unchecked = [u for u in self.unchecked if not inside_dead(u.line)]

    @staticmethod
    def exits(stmt) -> bool:
        """``sys.exit(...)``, ``pytest.skip(...)``, ``fail_unavailable(...)``: a call that never returns."""
        if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
            return False
        func = stmt.value.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return name in ("exit", "quit", "_exit", "skip", "fail", "abort") or name.startswith(("fail_", "abort_"))

    # ----- visiting ------------------------------------------------------------------------------
    def problem(self, node, message: str, owner: str = "", name: str = "", kind: str = "",
                guess: bool = False) -> None:
        if self.guarded:
            return
        lineno = getattr(node, "lineno", 0)
        self.pending.append(Problem(self.source.where(lineno), self.api.version, message, owner, name, kind, guess,
                                    lineno))

    def use(self, node, owner: str, name: str) -> None:
        self.uses.append(Use(getattr(node, "lineno", 0), owner, name))

    def visit_Module(self, node):
        self.find_guard_wrappers(node)
        self.run_block(node.body)
        self.finish()

    def find_guard_wrappers(self, tree) -> None:
        """Helpers that call a function they are given inside ``try: ... except AttributeError`` (Polygraphy's
        ``def try_run(func, name): try: return func() except AttributeError: ...``): a lambda or a function of
        this file passed to one runs guarded, like the body of such a ``try``."""
        wrappers: dict[str, int] = {}
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
            for t in ast.walk(fn):
                if not isinstance(t, ast.Try) or not any(self._catches_attribute_error(h.type) for h in t.handlers):
                    continue
                called = {c.func.id for stmt in t.body for c in ast.walk(stmt)
                          if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
                for i, param in enumerate(params):
                    if param in called:
                        wrappers[fn.name] = i
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in wrappers):
                continue
            i = wrappers[call.func.id]
            arg = call.args[i] if i < len(call.args) else None
            if isinstance(arg, ast.Lambda):
                self.guarded_nodes.add(id(arg))
            elif isinstance(arg, ast.Name):
                self.guarded_funcs.add(arg.id)

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name in TRT_MODULES or (alias.asname is None and alias.name.split(".")[0] == "tensorrt"):
                self.scopes[-1][alias.asname or alias.name.split(".")[0]] = MODULE
                self.imports_trt = True
            else:
                bound = alias.asname or alias.name.split(".")[0]
                self.scopes[-1].pop(bound, None)
                self.foreign.add(bound)

    def visit_ImportFrom(self, node):
        if node.module not in TRT_MODULES or node.level:
            for alias in node.names:
                bound = alias.asname or alias.name
                self.scopes[-1].pop(bound, None)
                self.foreign.add(bound)
            return
        self.imports_trt = True
        for alias in node.names:
            if alias.name == "*":
                continue
            self.checked += 1
            self.names.add(f"tensorrt.{alias.name}")
            found = self.resolve_any(MODULE, alias.name)
            if self.resolve(MODULE, alias.name) is None:
                self.problem(node, f"tensorrt has no attribute {alias.name!r}", "tensorrt", alias.name, "missing")
            else:
                self.use(node, "tensorrt", alias.name)
            typ = None
            if found is not None:
                typ = CLASS + found[1] if found[0] == "class" else found[1] if found[0] == "attribute" else None
            self.scopes[-1][alias.asname or alias.name] = typ

    def visit_ClassDef(self, node):
        for deco in node.decorator_list:
            self.visit(deco)
        if self.skipped(node):
            return
        self.check_overrides(node)
        saved = self.self_types
        self.self_types = {}
        # learn self.<attr> types from every method first (usually __init__)
        for _ in range(2):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.scopes.append({})
                    self._learn(item.body)
                    self.scopes.pop()
        for item in node.body:
            self.visit(item)
        self.self_types = saved

    def check_overrides(self, node) -> None:
        """A subclass of TensorRT interfaces (``class L(trt.IDebugListener)``): each public method must
        exist in one of them and take the arguments TensorRT passes to it.

        With ``fallbacks`` (readers' code) overrides are not checked: the bindings do not list every
        method an interface lets Python override (``IOutputAllocator.notify_shape`` is overridden by
        TensorRT's own 10.x samples, but listed only in 8.6), and a trampoline may pass other arguments
        than the listed signature shows (``IStreamWriter.write``)."""
        interfaces = []
        for base in node.bases:
            self.visit(base)
            typ = self.type_of(base)
            if typ and typ.startswith(CLASS) and typ[len(CLASS):] in self.api.classes:
                interfaces.append(typ[len(CLASS):])
        if not interfaces:
            return
        label = " or ".join(interfaces)
        for item in node.body:
            if not isinstance(item, ast.FunctionDef) or item.name.startswith("_"):
                continue
            self.checked += 1
            found, cls = None, interfaces[0]
            for cls in interfaces:
                self.names.add(f"{cls}.{item.name}")
                found = self.api.lookup(cls, item.name)
                if found is not None:
                    break
            if self.fallbacks:
                if found is not None:
                    self.use(item, cls, item.name)
                continue
            if found is None or found[0] != "method":
                self.problem(item, f"{label} has no method {item.name!r} to override", cls, item.name, "override")
                continue
            self.use(item, cls, item.name)
            a = item.args
            n = len(a.posonlyargs + a.args) - 1  # without self
            if a.vararg is None and not any(s.varargs or len(s.params) == n for s in found[1]):
                shapes = " or ".join(str(s) for s in found[1])
                self.problem(item, f"{cls}.{item.name} is called as {shapes}; the override takes {n} argument(s)",
                             cls, item.name, "override")

    def visit_AnnAssign(self, node):
        """``x: trt.IExecutionContext = value`` tells the checker what ``x`` holds."""
        if node.value is not None:
            self.visit(node.value)
        typ = self.type_of(node.annotation)
        self.bind(node.target, typ[len(CLASS):] if typ and typ.startswith(CLASS) else None)

    def _learn(self, body):
        for stmt in ast.walk(ast.Module(body=body, type_ignores=[])):
            if isinstance(stmt, ast.Assign):
                typ = self.type_of(stmt.value)
                for t in stmt.targets:
                    self.bind(t, typ)

    def skipped(self, node) -> bool:
        """``@pytest.mark.skipif(<true on this release>)`` (or ``@unittest.skipIf``): the body never runs."""
        for deco in node.decorator_list:
            if isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) \
                    and deco.func.attr in ("skipif", "skipIf") and deco.args and self.decide(deco.args[0]) is True:
                return True
            if isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) \
                    and deco.func.attr == "skipUnless" and deco.args and self.decide(deco.args[0]) is False:
                return True
        return False

    def visit_FunctionDef(self, node):
        self.defs.setdefault(node.name, []).append((node.lineno, getattr(node, "end_lineno", None) or node.lineno))
        body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
        a = node.args
        if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None \
                and len(a.posonlyargs + a.args) == len(a.defaults) and self._mentions_version(body[0].value):
            self.version_funcs[node.name] = body[0].value  # def trt_version(): return Version(trt.__version__)
        for deco in node.decorator_list:
            self.visit(deco)
        if self.skipped(node):
            self.skip(node.body)
            return
        a = node.args
        params = a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]
        # defaults and annotations are evaluated where the function is defined
        for expr in a.defaults + [d for d in a.kw_defaults if d is not None] + [p.annotation for p in params] \
                + [node.returns]:
            if expr is not None and not (isinstance(expr, ast.Constant) and isinstance(expr.value, str)):
                self.visit(expr)
        types = {}
        for p in params:
            # parameters shadow outer names; their type is known only from an annotation (trt.X), except
            # ``self`` annotated with the TensorRT base of its class (``def allocate(self: trt.IGpuAllocator,
            # ...)``): self is the subclass, with its own attributes
            typ = self.type_of(p.annotation) if p.annotation is not None and p.arg not in ("self", "cls") else None
            types[p.arg] = typ[len(CLASS):] if typ and typ.startswith(CLASS) else None
        self.scopes.append(types)
        self.consts.append({})
        self.returns.append([])
        guarded = node.name in self.guarded_funcs
        self.guarded += guarded
        try:
            self.run_block(node.body)
        finally:
            self.guarded -= guarded
        returned = self.returns.pop()
        self.consts.pop()
        self.scopes.pop()
        annotated = self.type_of(node.returns) if node.returns is not None else None
        if annotated and annotated.startswith(CLASS):
            self.func_types[node.name] = annotated[len(CLASS):]
        elif returned and None not in returned and len(set(returned)) == 1:
            self.func_types[node.name] = returned[0]  # type: ignore[assignment]
        else:
            self.func_types.pop(node.name, None)
        self.scopes[-1][node.name] = None
        self.foreign.discard(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Return(self, node):
        if node.value is not None:
            self.visit(node.value)
        if self.returns:
            self.returns[-1].append(self.type_of(node.value) if node.value is not None else None)

    def visit_Lambda(self, node):
        self.scopes.append({p.arg: None for p in node.args.args})
        guarded = id(node) in self.guarded_nodes
        self.guarded += guarded
        try:
            self.visit(node.body)
        finally:
            self.guarded -= guarded
            self.scopes.pop()

    def visit_IfExp(self, node):
        decided = self.decide(node.test)
        if decided is None:
            self.visit(node.test)
            with self.probing(node.test):
                self.visit(node.body)
                self.visit(node.orelse)
        else:
            self.skip([node.orelse if decided else node.body])
            self.visit(node.body if decided else node.orelse)

    def visit_BoolOp(self, node):
        """``hasattr(e, "x") and e.x``: an operand after one that decides the result never runs."""
        stop = not isinstance(node.op, ast.And)
        for i, value in enumerate(node.values):
            self.visit(value)
            decided = self.decide(value)
            if decided is stop:
                self.skip(node.values[i + 1:])
                return
            if decided is None and i + 1 < len(node.values):
                with self.probing(value):
                    for rest in node.values[i + 1:]:
                        self.visit(rest)
                return

    def visit_For(self, node):
        self.visit(node.iter)
        self.bind(node.target, None)
        self.run_block(node.body)
        self.run_block(node.orelse)

    visit_AsyncFor = visit_For

    def visit_While(self, node):
        self.visit(node.test)
        self.run_block(node.body)
        self.run_block(node.orelse)

    def visit_With(self, node):
        suppress = any(isinstance(i.context_expr, ast.Call) and i.context_expr.args
                       and (getattr(i.context_expr.func, "attr", None) == "suppress"
                            or getattr(i.context_expr.func, "id", None) == "suppress")
                       and any(self._catches_attribute_error(a) for a in i.context_expr.args) for i in node.items)
        if suppress:  # with contextlib.suppress(AttributeError): the same as try/except AttributeError
            self.guarded += 1
            try:
                self._with(node)
            finally:
                self.guarded -= 1
        else:
            self._with(node)

    def _with(self, node):
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                # TensorRT objects are their own context managers (``with trt.Builder(l) as builder``)
                typ = self.type_of(item.context_expr)
                self.bind(item.optional_vars, typ if typ and typ not in MODULES and not typ.startswith(CLASS) else None)
        self.run_block(node.body)

    visit_AsyncWith = visit_With

    def _comprehension(self, node, parts):
        self.scopes.append({})
        for gen in node.generators:
            self.visit(gen.iter)
            self.bind(gen.target, None)
            for cond in gen.ifs:
                self.visit(cond)
        for part in parts:
            self.visit(part)
        self.scopes.pop()

    def visit_ListComp(self, node):
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node):
        self._comprehension(node, [node.key, node.value])

    def visit_Try(self, node):
        catches = any(self._catches_attribute_error(h.type) for h in node.handlers)
        self.guarded += catches
        try:
            self.run_block(node.body)
        finally:
            self.guarded -= catches
        for h in node.handlers:
            if h.name:
                self.scopes[-1][h.name] = None
            # an ``except AttributeError`` handler is the fallback for releases that lack a name of the
            # body (``try: build_serialized_network(...) except AttributeError: build_engine(...)``)
            fallback = self._catches_attribute_error(h.type)
            self.guarded += fallback
            try:
                self.run_block(h.body)
            finally:
                self.guarded -= fallback
        self.run_block(node.orelse)
        self.run_block(node.finalbody)

    visit_TryStar = visit_Try

    @staticmethod
    def _catches_attribute_error(node) -> bool:
        if isinstance(node, ast.Name):
            return node.id == "AttributeError"
        if isinstance(node, ast.Tuple):
            return any(isinstance(e, ast.Name) and e.id == "AttributeError" for e in node.elts)
        return False

    def visit_Assign(self, node):
        self.visit(node.value)
        typ = self.type_of(node.value)
        self.imports_trt = self.imports_trt or typ in MODULES
        guessed = typ is not None and self.guessy(node.value)
        parsed_args = isinstance(node.value, ast.Call) and self.call_name(node.value) in ("parse_args",
                                                                                          "parse_known_args")
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr == "__class__" and isinstance(target.value, ast.Name):
                # layer.__class__ = trt.IConvolutionLayer: the usual downcast of what get_layer() returns
                self.bind(target.value, typ[len(CLASS):] if typ and typ.startswith(CLASS) else None)
                continue
            if isinstance(target, ast.Attribute):
                self.check_store(target)
            else:
                self.visit_target(target)
            self.bind(target, typ, guessed)
            if parsed_args and isinstance(target, ast.Name):
                self.foreign.add(target.id)  # args = parser.parse_args(): command-line options
        # remember values computed from trt.__version__ (TRT_VERSION = version.parse(trt.__version__))
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and self._mentions_version(node.value):
            try:
                self.consts[-1][node.targets[0].id] = self.value(node.value)
            except (_Unknown, RecursionError, ArithmeticError, AttributeError, OverflowError):
                pass

    def visit_target(self, target):
        """Subscripts and starred targets are loads of their containers."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                if isinstance(elt, ast.Attribute):
                    self.check_store(elt)
                else:
                    self.visit_target(elt)
        elif isinstance(target, ast.Starred):
            self.visit_target(target.value)
        elif isinstance(target, ast.Subscript):
            self.visit(target.value)
            self.visit(target.slice)

    def visit_AugAssign(self, node):
        self.visit(node.value)
        if isinstance(node.target, ast.Attribute):
            self.check_store(node.target)
        else:
            self.visit_target(node.target)

    def visit_NamedExpr(self, node):
        self.visit(node.value)
        self.bind(node.target, self.type_of(node.value))

    def check_store(self, target: ast.Attribute):
        self.visit(target.value)
        if target.attr == "__class__" and isinstance(target.value, ast.Name):
            return  # a downcast (layer.__class__ = trt.IConvolutionLayer): see visit_Assign
        base = self.type_of(target.value)
        if base is None:
            self.maybe_guess(target, store=True)
            return
        if base in MODULES or base.startswith(CLASS) or target.attr.startswith("__"):
            return
        if base not in self.api.classes:
            return
        self.checked += 1
        self.names.add(f"{base}.{target.attr}")
        found = self.api.lookup(base, target.attr)
        guess = self.guessy(target.value)
        if guess and found is None and not any(self.resolve(base, target.attr, api) for api in self.fallbacks):
            return  # a guessed type: report only names an older release had (the code may downcast)
        if found is None:
            self.problem(target, f"{base} has no attribute {target.attr!r} to set" + self.if_is(target.value, [base]),
                         base, target.attr, "store", guess)
        elif found[0] == "property" and not found[1][1]:
            self.problem(target, f"{base}.{target.attr} is read-only" + self.if_is(target.value, [base]), base,
                         target.attr, "readonly", guess)
        elif found[0] == "method":
            self.problem(target, f"{base}.{target.attr} is a method, not a settable attribute", base, target.attr,
                         "method-store", guess)
        else:
            self.use(target, base, target.attr)

    def visit_Attribute(self, node):
        self.visit(node.value)
        base = self.type_of(node.value)
        if base is None and isinstance(node.ctx, ast.Load):
            self.maybe_guess(node)
            return
        if base is None or node.attr.startswith("__") or not isinstance(node.ctx, ast.Load):
            return
        if base not in MODULES and (base[len(CLASS):] if base.startswith(CLASS) else base) not in self.api.classes:
            return
        if base == LAZY and self.resolve(base, node.attr) is None \
                and not any(self.resolve(base, node.attr, api) for api in self.fallbacks):
            return  # the lazy module's own API (is_installed()), or another module (tensorrt_rtx)
        if base in MODULES and (node.attr.startswith("_") or node.attr in SUBMODULES):
            return  # trt.tensorrt.ITensor (the compiled module the package re-exports), trt._package_name
        if base in MODULES and self.maybe_rtx and not self.known_anywhere(node.attr):
            return  # a file written for TensorRT-RTX too: a name no TensorRT release has may be RTX's
        self.checked += 1
        owner = "tensorrt" if base in MODULES else base.removeprefix(CLASS)
        self.names.add(f"{owner}.{node.attr}")
        if self.resolve(base, node.attr) is None:
            guess = self.guessy(node.value)
            if guess and not any(self.resolve(base, node.attr, api) for api in self.fallbacks):
                return  # a guessed type: report only names an older release had (the code may downcast)
            self.problem(node, f"{owner} has no attribute {node.attr!r}" + self.if_is(node.value, [owner]), owner,
                         node.attr, "missing", guess)
        else:
            self.use(node, owner, node.attr)

    def maybe_guess(self, node: ast.Attribute, store: bool = False) -> None:
        """A name the target lacks, used on an object of unknown type (``guess`` mode only); other TensorRT
        member names on such objects are counted as unchecked (``member_names``)."""
        if not self.imports_trt or node.attr.startswith("_"):
            return
        receiver = node.value
        while isinstance(receiver, ast.Call):
            receiver = receiver.func
        if isinstance(receiver, ast.Name):
            ident = receiver.id
            if ident in ("self", "cls") or ident in self.foreign:
                return
        elif isinstance(receiver, ast.Attribute):
            ident = receiver.attr
        else:
            return
        if ast.unparse(node.value) in self.probed:
            return
        owners = self.guesser(node.attr, ident) if self.guesser is not None else []
        if not owners:
            if node.attr in self.member_names and not self.guarded:
                self.unchecked.append(Use(getattr(node, "lineno", 0), "?", node.attr))
            return
        owner = owners[0]
        self.checked += 1
        verb = "to set" if store else ""
        text = f"{owner} has no attribute {node.attr!r}" + (f" {verb}" if verb else "")
        self.problem(node, text + self.if_is(node.value, owners, always=True), owner, node.attr,
                     "store" if store else "missing", guess=True)

    def if_is(self, receiver, owners: list[str], always: bool = False) -> str:
        """`` (if x is an ICudaEngine)``, for a guessed type."""
        if not always and not self.guessy(receiver):
            return ""
        article = "an" if owners[0][0] in "AEIOU" else "a"
        return f" (if {ast.unparse(receiver)} is {article} {' or '.join(owners)})"

    def visit_Call(self, node):
        name = self.call_name(node)
        if name:
            self.calls.append((name, node.lineno, True))
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1:
            self.check_len(node)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return
        sigs, label = None, None
        ftype = self.type_of(node.func)
        if ftype and ftype.startswith(CLASS):
            found = self.api.lookup(ftype[len(CLASS):], "__init__")
            if found and found[0] == "method":
                sigs, label = found[1], f"{ftype[len(CLASS):]}()"
        elif isinstance(node.func, ast.Attribute):
            found = self.resolve(self.type_of(node.func.value), node.func.attr)
            if found and found[0] in ("method", "function"):
                owner = self.type_of(node.func.value)
                owner = "tensorrt" if owner in MODULES else owner.removeprefix(CLASS)
                sigs, label = found[1], f"{owner}.{node.func.attr}()"
        if sigs:
            self.checked += 1
        if not sigs:
            return
        keywords = [k.arg for k in node.keywords]
        if not any(s.accepts(len(node.args), keywords) for s in sigs):
            shapes = " or ".join(str(s) for s in sigs)
            owner, _, name = label.rstrip("()").rpartition(".")
            self.problem(node, f"{label} takes {shapes}; called with {len(node.args)} positional "
                               f"argument(s) and keywords {keywords}", owner or name, name if owner else "__init__",
                         "call")

    def check_len(self, node) -> None:
        typ = self.type_of(node.args[0])
        if not typ or typ in MODULES or typ.startswith(CLASS) or typ not in self.api.classes:
            return
        self.checked += 1
        if self.api.lookup(typ, "__len__") is None:
            self.problem(node, f"{typ} has no len() (no __len__)", typ, "__len__", "len")


@dataclass
class Report:
    versions: list[str]
    sources: list[str]
    checked: dict[str, int]
    names: set[str]
    problems: list[Problem]
    uses: dict[tuple[str, str], list[Use]] = field(default_factory=dict)  # (source, version) -> uses

    def text(self) -> str:
        lines = [f"TensorRT API check: {len(self.sources)} files against TensorRT {', '.join(self.versions)}"]
        for v in self.versions:
            lines.append(f"  {v}: {self.checked[v]} uses checked, "
                         f"{sum(p.version == v for p in self.problems)} problem(s)")
        lines.append(f"  {len(self.names)} distinct names: {', '.join(sorted(self.names))}")
        lines += [f"  PROBLEM {p}" for p in self.problems]
        return "\n".join(lines)


def check(sources: list[Source], apis: list[API], fallbacks: dict[str, list[API]] | None = None,
          guess: dict[str, Callable] | None = None) -> Report:
    """Check ``sources`` against each API. ``fallbacks`` and ``guess`` (by version) turn on the
    reader-facing extras described in the module docstring; without them the check is exact."""
    problems: list[Problem] = []
    checked, names, uses = {}, set(), {}
    for api in apis:
        total = 0
        for src in sources:
            tree = ast.parse(src.code, filename=src.name)
            analyzer = _Analyzer(api, src, problems.append, (fallbacks or {}).get(api.version, ()),
                                 (guess or {}).get(api.version))
            analyzer.visit(tree)
            total += analyzer.checked
            names |= analyzer.names
            uses[(src.name, api.version)] = analyzer.uses
        checked[api.version] = total
    return Report([a.version for a in apis], [s.name for s in sources], checked, names, problems, uses)
