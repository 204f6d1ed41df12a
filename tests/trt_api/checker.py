"""Find every use of the TensorRT Python API in the book and check it against each supported version.

What is checked, per version:

- names under the module (``trt.X``, ``trt.X.Y``: classes, enum members, functions, constants);
- attributes and methods used on TensorRT objects, following types through assignments and return
  annotations (``builder = trt.Builder(...)``, ``config = builder.create_builder_config()``, ...);
- assignments to attributes (``config.max_workspace_size = ...``: must exist and be settable);
- call arity and keyword names against the pybind11 signatures where the target is known.

A use that a version lacks is not reported for that version when it sits in a branch that cannot run
there: ``if trt_major(trt) >= 11: ... else: ...``, ``if hasattr(trt.BuilderFlag, "FP16"): ...``, and
the code after ``if trt_major(trt) >= 11: raise ...`` are understood. ``trt_major`` is the book's
helper (``trtfaq.engine.trt_major``); gate version-specific code with it.
"""
from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

from .api import API

MODULE = "<module>"   # type tag of the tensorrt module itself
CLASS = "class:"       # type tag prefix of a class object (e.g. "class:BuilderFlag")


@dataclass(frozen=True)
class Problem:
    where: str
    version: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: [TensorRT {self.version}] {self.message}"


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
    code, where = [], []
    number = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        number += 1
        for i, line in enumerate("".join(cell["source"]).splitlines(), start=1):
            stripped = line.lstrip()
            code.append("" if stripped.startswith(("%", "!")) else line)
            where.append(f"code cell {number}, line {i}")
    return Source(str(path.relative_to(root)), "\n".join(code) + "\n", where)


class _Analyzer(ast.NodeVisitor):
    def __init__(self, api: API, source: Source, report):
        self.api, self.source, self.report = api, source, report
        self.scopes: list[dict[str, str]] = [{}]
        self.self_types: dict[str, str] = {}
        self.checked = 0
        self.names: set[str] = set()

    # ----- types ---------------------------------------------------------------------------------
    def lookup_var(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]  # None here means "bound in this scope, type unknown"
        return None

    def bind(self, target, typ: str | None) -> None:
        """Record what ``target`` now holds; unpacking and unknown values shadow with None."""
        if isinstance(target, ast.Name):
            self.scopes[-1][target.id] = typ
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.bind(elt, None)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None)
        elif (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"
              and typ is not None):
            self.self_types[target.attr] = typ

    def type_of(self, node) -> str | None:
        """Type tag of an expression: MODULE, ``class:X``, an API class name, or None (unknown)."""
        if isinstance(node, ast.Name):
            return self.lookup_var(node.id)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                return self.self_types.get(node.attr)
            base = self.type_of(node.value)
            found = self.resolve(base, node.attr)
            if found is None:
                return None
            kind, info = found
            if kind == "class":
                return CLASS + info
            if kind in ("attribute",):
                return info
            if kind == "property":
                return info[0]
            return None
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "require_tensorrt":
                return MODULE
            if isinstance(func, ast.Call) is False and isinstance(func, ast.Attribute) and \
                    isinstance(func.value, ast.Name) and func.value.id == "importlib" and func.attr == "import_module" \
                    and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "tensorrt":
                return MODULE
            ftype = self.type_of(func)
            if ftype and ftype.startswith(CLASS):
                return ftype[len(CLASS):]
            if isinstance(func, ast.Attribute):
                found = self.resolve(self.type_of(func.value), func.attr)
                if found and found[0] in ("method", "function"):
                    returns = {s.returns for s in found[1]}
                    return returns.pop() if len(returns) == 1 else None
        return None

    def resolve(self, base: str | None, attr: str):
        if base is None or attr.startswith("__"):
            return None
        if base == MODULE:
            return self.api.module_lookup(attr)
        cls = base[len(CLASS):] if base.startswith(CLASS) else base
        if cls not in self.api.classes:
            return None
        return self.api.lookup(cls, attr)

    # ----- version gates -------------------------------------------------------------------------
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
            m = self.api.major
            return {ast.GtE: m >= n, ast.Gt: m > n, ast.LtE: m <= n, ast.Lt: m < n, ast.Eq: m == n,
                    ast.NotEq: m != n}.get(op)
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "hasattr" \
                and len(test.args) == 2 and isinstance(test.args[1], ast.Constant):
            base = self.type_of(test.args[0])
            if base is not None:
                return self.resolve(base, test.args[1].value) is not None
        return None

    def run_block(self, body) -> bool:
        """Visit statements in order; stop after one that always leaves the block. True if it did."""
        for stmt in body:
            if isinstance(stmt, ast.If):
                decided = self.decide(stmt.test)
                if decided is None:
                    self.visit(stmt.test)
                    a = self.run_block(stmt.body)
                    b = self.run_block(stmt.orelse)
                    if a and b and stmt.orelse:
                        return True
                    continue
                if self.run_block(stmt.body if decided else stmt.orelse):
                    return True
                continue
            self.visit(stmt)
            if isinstance(stmt, (ast.Raise, ast.Return, ast.Continue, ast.Break)):
                return True
        return False

    # ----- visiting ------------------------------------------------------------------------------
    def problem(self, node, message: str) -> None:
        self.report(Problem(self.source.where(node.lineno), self.api.version, message))

    def visit_Module(self, node):
        self.run_block(node.body)

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name == "tensorrt":
                self.scopes[-1][alias.asname or "tensorrt"] = MODULE

    def visit_ClassDef(self, node):
        for base in node.bases:
            self.check_overrides(node, base)
        saved = self.self_types
        self.self_types = {}
        # learn self.<attr> types from every method first (usually __init__)
        for _ in range(2):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    self.scopes.append({})
                    self._learn(item.body)
                    self.scopes.pop()
        for item in node.body:
            self.visit(item)
        self.self_types = saved

    def check_overrides(self, node, base) -> None:
        """A subclass of a TensorRT interface (``class L(trt.IDebugListener)``): each public method
        must exist in the interface and take the arguments TensorRT passes to it."""
        self.visit(base)
        typ = self.type_of(base)
        if not typ or not typ.startswith(CLASS):
            return
        cls = typ[len(CLASS):]
        for item in node.body:
            if not isinstance(item, ast.FunctionDef) or item.name.startswith("_"):
                continue
            self.checked += 1
            self.names.add(f"{cls}.{item.name}")
            found = self.api.lookup(cls, item.name)
            if found is None or found[0] != "method":
                self.problem(item, f"{cls} has no method {item.name!r} to override")
                continue
            a = item.args
            n = len(a.posonlyargs + a.args) - 1  # without self
            if a.vararg is None and not any(s.varargs or len(s.params) == n for s in found[1]):
                shapes = " or ".join(str(s) for s in found[1])
                self.problem(item, f"{cls}.{item.name} is called as {shapes}; the override takes {n} argument(s)")

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

    def visit_FunctionDef(self, node):
        self.scopes.append({})
        a = node.args
        for p in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
            # parameters shadow outer names; their type is known only from an annotation (trt.X)
            typ = self.type_of(p.annotation) if p.annotation is not None else None
            self.scopes[-1][p.arg] = typ[len(CLASS):] if typ and typ.startswith(CLASS) else None
        self.run_block(node.body)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self.scopes.append({p.arg: None for p in node.args.args})
        self.visit(node.body)
        self.scopes.pop()

    def visit_For(self, node):
        self.visit(node.iter)
        self.bind(node.target, None)
        self.run_block(node.body)
        self.run_block(node.orelse)

    def visit_While(self, node):
        self.visit(node.test)
        self.run_block(node.body)
        self.run_block(node.orelse)

    def visit_With(self, node):
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, None)
        self.run_block(node.body)

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
        self.run_block(node.body)
        for h in node.handlers:
            if h.name:
                self.scopes[-1][h.name] = None
            self.run_block(h.body)
        self.run_block(node.orelse)
        self.run_block(node.finalbody)

    def visit_Assign(self, node):
        self.visit(node.value)
        typ = self.type_of(node.value)
        for target in node.targets:
            if isinstance(target, ast.Attribute):
                self.check_store(target)
            self.bind(target, typ)

    def visit_AugAssign(self, node):
        self.visit(node.value)
        if isinstance(node.target, ast.Attribute):
            self.check_store(node.target)

    def check_store(self, target: ast.Attribute):
        self.visit(target.value)
        base = self.type_of(target.value)
        if base is None or base == MODULE or base.startswith(CLASS) or target.attr.startswith("__"):
            return
        if base not in self.api.classes:
            return
        self.checked += 1
        self.names.add(f"{base}.{target.attr}")
        found = self.api.lookup(base, target.attr)
        if found is None:
            self.problem(target, f"{base} has no attribute {target.attr!r} to set")
        elif found[0] == "property" and not found[1][1]:
            self.problem(target, f"{base}.{target.attr} is read-only")
        elif found[0] == "method":
            self.problem(target, f"{base}.{target.attr} is a method, not a settable attribute")

    def visit_Attribute(self, node):
        self.visit(node.value)
        base = self.type_of(node.value)
        if base is None or node.attr.startswith("__") or not isinstance(node.ctx, ast.Load):
            return
        if base != MODULE and (base[len(CLASS):] if base.startswith(CLASS) else base) not in self.api.classes:
            return
        self.checked += 1
        owner = "tensorrt" if base == MODULE else base.removeprefix(CLASS)
        self.names.add(f"{owner}.{node.attr}")
        if self.resolve(base, node.attr) is None:
            self.problem(node, f"{owner} has no attribute {node.attr!r}")

    def visit_Call(self, node):
        self.generic_visit(node)
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
                owner = "tensorrt" if owner == MODULE else owner.removeprefix(CLASS)
                sigs, label = found[1], f"{owner}.{node.func.attr}()"
        if sigs:
            self.checked += 1
        if not sigs:
            return
        keywords = [k.arg for k in node.keywords]
        if not any(s.accepts(len(node.args), keywords) for s in sigs):
            shapes = " or ".join(str(s) for s in sigs)
            self.problem(node, f"{label} takes {shapes}; called with {len(node.args)} positional "
                               f"argument(s) and keywords {keywords}")


@dataclass
class Report:
    versions: list[str]
    sources: list[str]
    checked: dict[str, int]
    names: set[str]
    problems: list[Problem]

    def text(self) -> str:
        lines = [f"TensorRT API check: {len(self.sources)} files against TensorRT {', '.join(self.versions)}"]
        for v in self.versions:
            lines.append(f"  {v}: {self.checked[v]} uses checked, "
                         f"{sum(p.version == v for p in self.problems)} problem(s)")
        lines.append(f"  {len(self.names)} distinct names: {', '.join(sorted(self.names))}")
        lines += [f"  PROBLEM {p}" for p in self.problems]
        return "\n".join(lines)


def check(sources: list[Source], apis: list[API]) -> Report:
    problems: list[Problem] = []
    checked, names = {}, set()
    for api in apis:
        total = 0
        for src in sources:
            tree = ast.parse(src.code, filename=src.name)
            analyzer = _Analyzer(api, src, problems.append)
            analyzer.visit(tree)
            total += analyzer.checked
            names |= analyzer.names
        checked[api.version] = total
    return Report([a.version for a in apis], [s.name for s in sources], checked, names, problems)


def book_sources(root: Path) -> list[Source]:
    """Every module of the helper package, subpackages included, and every notebook's code cells."""
    out = [python_source(p, root) for p in sorted((root / "trtfaq").rglob("*.py"))]
    out += [notebook_source(p, root) for p in sorted((root / "notebooks").glob("*.ipynb"))]
    return out
