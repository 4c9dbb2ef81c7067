"""The layers import only downward: smpinfo → comments → articles → images → pagecache → Django.
A lower layer learns of a higher one only through settings, signals and registration."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["smpinfo", "comments", "articles", "images", "pagecache"]  # highest first


def imported_apps(path):
    """The project apps a Python file imports (at any place in it, local imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names if name.split(".")[0] in LAYERS)
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_the_layers_below_it(layer):
    higher = set(LAYERS[: LAYERS.index(layer)])

    offending = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) & higher)
        for path in sorted((ROOT / layer).rglob("*.py"))
        if imported_apps(path) & higher
    }

    assert offending == {}
