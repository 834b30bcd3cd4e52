"""The import direction of the sub-packages: registry -> endpoints -> stats -> study -> reporting.

Statistics never touch files, databases, registry columns or plotting; reporting never computes
statistics; the CLI holds no logic of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "postcart"

#: For each sub-package, the postcart sub-packages and third-party modules it must not import.
FORBIDDEN: dict[str, set[str]] = {
    "stats": {
        "postcart.registry",
        "postcart.endpoints",
        "postcart.study",
        "postcart.reporting",
        "postcart.synth",
        "postcart.cli",
        "postcart.web",
        "matplotlib",
        "sqlalchemy",
        "openpyxl",
    },
    "registry": {
        "postcart.endpoints",
        "postcart.stats",
        "postcart.study",
        "postcart.reporting",
        "postcart.cli",
        "postcart.web",
        "matplotlib",
    },
    "endpoints": {
        "postcart.study",
        "postcart.reporting",
        "postcart.cli",
        "postcart.web",
        "matplotlib",
        "sqlalchemy",
    },
    "study": {"postcart.reporting", "postcart.cli", "postcart.web", "matplotlib"},
    "reporting": {"postcart.cli", "postcart.web", "postcart.stats._", "sqlalchemy"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_subpackage_respects_import_direction(package: str) -> None:
    offenders = []
    for path in sorted((SRC / package).rglob("*.py")):
        for name in _imports(path):
            for bad in FORBIDDEN[package]:
                if name == bad or name.startswith(bad if bad.endswith("_") else bad + "."):
                    offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_layering_check_detects_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import matplotlib.pyplot as plt\nfrom postcart.registry import schema\n")
    assert _imports(module) == {"matplotlib.pyplot", "postcart.registry"}
