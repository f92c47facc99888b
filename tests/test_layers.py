"""The house's layers, checked on every import of cnimodel (docs/architecture.md): imports go one way.

An import counts wherever it is written (a function-level import too), except under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnimodel"

# (layer, modules it must not import): the lower a layer, the less it may know.
RULES = {
    "cnimodel.net": ("cnimodel.plan", "cnimodel.dataplane", "cnimodel.cluster", "cnimodel.plugins"),
    "cnimodel.plan": ("cnimodel.plugin", "cnimodel.plugins", "cnimodel.cluster", "cnimodel.discover",
                      "cnimodel.ipam", "cnimodel.policy", "cnimodel.services", "cnimodel.trace", "cnimodel.render",
                      "cnimodel.validate", "cnimodel.kernel", "cnimodel.commands", "cnimodel.cli", "cnimodel.api"),
    "cnimodel.kernel": ("cnimodel.render", "cnimodel.commands", "cnimodel.cli", "cnimodel.api"),
    "cnimodel.plugins": ("cnimodel.render", "cnimodel.commands", "cnimodel.cli", "cnimodel.api", "cnimodel.validate"),
    "cnimodel.render": ("cnimodel.commands", "cnimodel.cli", "cnimodel.api", "cnimodel.kernel"),
}
ENGINES = ("cnimodel.cluster", "cnimodel.discover", "cnimodel.ipam", "cnimodel.policy", "cnimodel.services",
           "cnimodel.trace", "cnimodel.validate", "cnimodel.graph", "cnimodel.apply", "cnimodel.dataplane",
           "cnimodel.plugin", "cnimodel.sources", "cnimodel.audit", "cnimodel.infer", "cnimodel.overview")
for _engine in ENGINES:  # engines answer; renderers show the answers, front doors ask the questions
    RULES[_engine] = ("cnimodel.render", "cnimodel.commands", "cnimodel.cli", "cnimodel.api")


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, package: bool) -> None:
        self.module, self.package, self.found = module, package, set()

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            for n in node.orelse:
                self.visit(n)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(a.name for a in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parts = self.module.split(".") if self.package else self.module.split(".")[:-1]
            base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
        self.found.add(base)
        self.found.update(f"{base}.{a.name}" for a in node.names)


@cache
def imports() -> dict[str, set[str]]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        v = _Imports(_name(path), path.name == "__init__.py")
        v.visit(ast.parse(path.read_text(encoding="utf-8")))
        out[v.module] = {m for m in v.found if m.startswith("cnimodel")}
    return out


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("layer", sorted(RULES))
def test_imports_go_one_way(layer: str) -> None:
    bad = sorted(f"{m} imports {i}" for m, found in imports().items() if _within(m, layer)
                 for i in found for banned in RULES[layer] if _within(i, banned) and not _within(m, banned))
    assert not bad, "\n".join(bad)


def test_the_core_names_no_plugin() -> None:
    bad = sorted(f"{m} imports {i}" for m, found in imports().items() if not _within(m, "cnimodel.plugins")
                 for i in found if _within(i, "cnimodel.plugins"))
    assert not bad, "\n".join(bad)


# What a renderer may take from an engine besides its answer types and constants: small pure helpers that name
# or order values, each a few lines (kept beside the answers they describe so engines and renderers agree).
RENDER_HELPERS = {
    "cnimodel.services.iptables.chain_order",  # chains in iptables-save's order
    "cnimodel.services.hnslb.hns_id",  # the stable GUID the model gives an HNS object of a node
}


def test_renderers_do_not_compute() -> None:
    """A renderer imports from engines only the types of their answers (and constants): the computing happens
    before, in the command or the API, and the renderer receives the answer."""
    import importlib
    import inspect

    bad = []
    for path in sorted((PACKAGE / "render").rglob("*.py")):
        module = _name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if not any(_within(node.module, e) for e in (*ENGINES, "cnimodel.kernel")):
                continue
            source = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(source, alias.name, None)
                if inspect.isclass(value) or alias.name.isupper() or (value is None and alias.name[:1].isupper()):
                    continue
                if f"{node.module}.{alias.name}" not in RENDER_HELPERS:
                    bad.append(f"{module} imports {node.module}.{alias.name}")
    assert not bad, "\n".join(bad)
