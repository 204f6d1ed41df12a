"""The TensorRT Python API of one version, read from stubs generated from its real bindings."""
from __future__ import annotations

import ast
from pathlib import Path

# The API's data structures live in the package, which ships every release's API as data.
from trtfaq.tools.apisurface import API, ClassInfo, Param, Signature

__all__ = ["API", "ClassInfo", "Param", "Signature", "load"]


def _type_name(node, known: set[str], scope: str = "") -> str | None:
    """The API class an annotation names (``ICudaEngine``, ``ILogger.Severity``), else None."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(node, ast.Subscript):  # typing.ClassVar[X], typing.Optional[X]
        return _type_name(node.slice, known, scope)
    text = ast.unparse(node)
    for candidate in (text, f"{scope}.{text}" if scope else None):
        if candidate in known:
            return candidate
    return None


def _signature(fn: ast.FunctionDef, known: set[str], scope: str, is_method: bool) -> Signature:
    a = fn.args
    positional = a.posonlyargs + a.args
    given = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    # a default of REQUIRED marks a pybind11 parameter that is required after defaulted ones
    defaults = [d is not None and not (isinstance(d, ast.Name) and d.id == "REQUIRED") for d in given]
    params = [Param(p.arg, d) for p, d in zip(positional, defaults)]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)
    if is_method and not static and params and params[0].name in ("self", "cls"):
        params = params[1:]
    params += [Param(p.arg, d is not None) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    return Signature(params, varargs=bool(a.vararg or a.kwarg), returns=_type_name(fn.returns, known, scope))


def load(stub_dir: Path, version: str) -> API:
    tree = ast.parse((Path(stub_dir) / "tensorrt" / "__init__.pyi").read_text())
    known: set[str] = set()

    def collect(body, prefix=""):
        for node in body:
            if isinstance(node, ast.ClassDef):
                known.add(prefix + node.name)
                collect(node.body, prefix + node.name + ".")

    collect(tree.body)
    classes: dict[str, ClassInfo] = {}

    def read_class(node: ast.ClassDef, qual: str):
        info = ClassInfo(qual, bases=[b for b in (_type_name(b, known) for b in node.bases) if b])
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                decos = [ast.unparse(d) for d in item.decorator_list]
                if "property" in decos:
                    info.properties[item.name] = (_type_name(item.returns, known, qual), False)
                elif any(d.endswith(".setter") for d in decos):
                    typ, _ = info.properties.get(item.name, (None, False))
                    info.properties[item.name] = (typ, True)
                else:
                    info.methods.setdefault(item.name, []).append(_signature(item, known, qual, True))
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                info.attributes[item.target.id] = _type_name(item.annotation, known, qual)
            elif isinstance(item, ast.Assign):
                for t in item.targets:
                    if isinstance(t, ast.Name):
                        info.attributes[t.id] = None
            elif isinstance(item, ast.ClassDef):
                info.nested[item.name] = f"{qual}.{item.name}"
                read_class(item, f"{qual}.{item.name}")
        classes[qual] = info

    functions: dict[str, list[Signature]] = {}
    attributes: dict[str, str | None] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            read_class(node, node.name)
        elif isinstance(node, ast.FunctionDef):
            functions.setdefault(node.name, []).append(_signature(node, known, "", False))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            attributes[node.target.id] = _type_name(node.annotation, known)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    attributes[t.id] = None
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                attributes[alias.asname or alias.name.split(".")[0]] = None
    return API(version, classes, functions, attributes)
