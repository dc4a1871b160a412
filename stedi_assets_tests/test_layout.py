"""The package's drawing: which module imports which (at the top or inside a function), with
no cycle, so that each module can be read, tested and moved after the ones it uses. And the
tree is the map (docs/layout.md): every module sits in the folder of its concern, the rules
of the data and the lake know nothing of Dagster, and the Dagster wiring computes nothing."""

import ast
from collections.abc import Callable
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "stedi_assets"

# The folders whose modules import no Dagster package (dagster, dagster_aws, ...): the rules
# of the data and the lake, usable and testable without an orchestrator.
WITHOUT_DAGSTER = ("rules", "lake")
# The folder of the Dagster wiring, whose modules build no DataFrame expression
# (pyspark.sql.functions): what is computed lives in rules/ or lake/. There is no exception.
WIRING = ("pipeline",)
# What may sit directly in the package, beside its folders.
TOP_LEVEL = {"__init__.py", "__main__.py"}


def package_modules(package: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module of `package` (a package by its __init__)."""
    return {".".join(path.relative_to(package.parent).with_suffix("").parts)
            .removesuffix(".__init__"): path for path in package.rglob("*.py")}


def module_imports(package: Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports. `from a import b`, b a module, imports
    a.b (Python runs a's __init__ first, but what the line uses is b)."""
    modules = package_modules(package)
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


def imported_names(node: ast.AST) -> list[str]:
    """What an import statement may import: `import a.b` a.b, `from a import b` a or a.b
    (b a module or a name in a); nothing for any other node."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return []


def refused_imports(package: Path, folders: tuple[str, ...],
                    refused: Callable[[str], bool]) -> dict[str, list[str]]:
    """module (in one of `folders` of `package`) -> its import statements, at the top or
    inside a function, that import a name `refused` says yes to, as 'line N: statement'."""
    found = {}
    for module, path in package_modules(package).items():
        if module.split(".")[1:2] and module.split(".")[1] in folders:
            lines = [f"line {node.lineno}: {ast.unparse(node)}"
                     for node in ast.walk(ast.parse(path.read_text()))
                     if any(refused(name) for name in imported_names(node))]
            if lines:
                found[module] = lines
    return found


def is_dagster(name: str) -> bool:
    return name.split(".")[0].startswith("dagster")


def builds_columns(name: str) -> bool:
    """pyspark.sql.functions (or Spark Connect's), or a name from it."""
    parts = name.split(".")
    return parts[0] == "pyspark" and "functions" in parts


def loose_modules(package: Path) -> list[str]:
    """The modules directly in `package` that belong in one of its folders."""
    return sorted(path.name for path in package.glob("*.py") if path.name not in TOP_LEVEL)


def tiny_package(root: Path, files: dict[str, str]) -> Path:
    """A package `shop` under `root` with `files` (path in the package -> source) and an
    __init__.py in every folder."""
    package = root / "shop"
    for name, source in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(source)
    return package


@pytest.mark.unit
def test_the_package_imports_have_no_cycle():
    graph = module_imports(PACKAGE)
    checks = "stedi_assets.pipeline.checks"
    assert checks in graph and "stedi_assets.rules.tally" in graph[checks]
    assert cycle(graph) is None, " -> ".join(cycle(graph))


@pytest.mark.unit
def test_a_cycle_is_found(tmp_path):
    package = tiny_package(tmp_path, {
        "orders.py": "from shop.billing import invoice\n",
        "billing.py": "def invoice():\n    from shop import orders\n",
    })
    assert set(cycle(module_imports(package))) == {"shop.orders", "shop.billing"}


@pytest.mark.unit
def test_the_rules_and_the_lake_import_no_dagster():
    modules = package_modules(PACKAGE)
    assert {"stedi_assets.rules.contract", "stedi_assets.lake.lakehouse"} <= set(modules)
    assert refused_imports(PACKAGE, WITHOUT_DAGSTER, is_dagster) == {}


@pytest.mark.unit
def test_a_rule_that_imports_dagster_is_found(tmp_path):
    package = tiny_package(tmp_path, {
        "rules/prices.py": "def price():\n    import dagster\n",
        "lake/store.py": "from dagster_aws.s3 import S3Resource\nimport pyarrow\n",
        "lake/ok.py": "from shop.rules import prices\n",
        "pipeline/assets.py": "from dagster import asset\n",  # the wiring may
    })
    assert refused_imports(package, WITHOUT_DAGSTER, is_dagster) == {
        "shop.rules.prices": ["line 2: import dagster"],
        "shop.lake.store": ["line 1: from dagster_aws.s3 import S3Resource"],
    }


@pytest.mark.unit
def test_the_wiring_builds_no_column():
    assert "stedi_assets.pipeline.checks" in package_modules(PACKAGE)
    assert refused_imports(PACKAGE, WIRING, builds_columns) == {}


@pytest.mark.unit
def test_wiring_that_builds_columns_is_found(tmp_path):
    package = tiny_package(tmp_path, {
        "pipeline/report.py": "from pyspark.sql import DataFrame, functions as F\n",
        "pipeline/checks.py": "def count():\n    import pyspark.sql.functions\n",
        "pipeline/sizes.py": "from pyspark.sql.functions import col\n",
        "pipeline/ok.py": "from pyspark.sql import DataFrame\nfrom shop.rules import counts\n",
        "rules/counts.py": "from pyspark.sql import functions as F\n",  # the rules may
    })
    assert refused_imports(package, WIRING, builds_columns) == {
        "shop.pipeline.report": ["line 1: from pyspark.sql import DataFrame, functions as F"],
        "shop.pipeline.checks": ["line 2: import pyspark.sql.functions"],
        "shop.pipeline.sizes": ["line 1: from pyspark.sql.functions import col"],
    }


@pytest.mark.unit
def test_every_module_sits_in_a_folder():
    assert loose_modules(PACKAGE) == []


@pytest.mark.unit
def test_a_module_left_beside_the_folders_is_found(tmp_path):
    package = tiny_package(tmp_path, {"__main__.py": "", "orders.py": "", "rules/prices.py": ""})
    assert loose_modules(package) == ["orders.py"]
