"""The package's drawing: which module imports which (at the top or inside a function), with
no cycle, so that each module can be read, tested and moved after the ones it uses."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "stedi_assets"


def module_imports(package: Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports. `from a import b`, b a module, imports
    a.b (Python runs a's __init__ first, but what the line uses is b)."""
    modules = {".".join(path.relative_to(package.parent).with_suffix("").parts)
               .removesuffix(".__init__"): path for path in package.rglob("*.py")}
    graph = {}
    for module, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                named = [f"{node.module}.{alias.name}" for alias in node.names]
                submodules = [name for name in named if name in modules]
                found |= set(submodules) if len(submodules) == len(named) else {node.module}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[module] = {name for name in found if name in modules and name != module}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as found:
        return found.args[1]
    return None


@pytest.mark.unit
def test_the_package_imports_have_no_cycle():
    graph = module_imports(PACKAGE)
    checks = "stedi_assets.pipeline.checks"
    assert checks in graph and "stedi_assets.rules.tally" in graph[checks]
    assert cycle(graph) is None, " -> ".join(cycle(graph))


@pytest.mark.unit
def test_a_cycle_is_found(tmp_path):
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "orders.py").write_text("from shop.billing import invoice\n")
    (package / "billing.py").write_text("def invoice():\n    from shop import orders\n")
    assert set(cycle(module_imports(package))) == {"shop.orders", "shop.billing"}
