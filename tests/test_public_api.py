"""The public/private line: scripts use public names; every public namespace lists what it has."""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py"))
NAMESPACES = ["skpathnet", "skpathnet.baselines", "skpathnet.datasets", "skpathnet.engine",
              "skpathnet.experiments", "skpathnet.experiments.checkpoint", "skpathnet.io",
              "skpathnet.metrics", "skpathnet.model_selection", "skpathnet.plotting",
              "skpathnet.transformers", "skpathnet.utils"]


def private_imports(path, package="skpathnet"):
    """``module:name`` of each private skpathnet module or name that ``path`` imports.

    Relative imports (``from .experiments import _checkpoint``, in the
    package's own ``__main__``) count as imports from ``package``.
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules = [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = f"{package}.{module}" if module else package
            modules = [(module, [alias.name for alias in node.names])]
        else:
            continue
        for module, names in modules:
            parts = module.split(".")
            if parts[0] != package:
                continue
            if any(part.startswith("_") for part in parts[1:]):
                found.append(module)
            found += [f"{module}:{name}" for name in names if name.startswith("_")]
    return found


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_benchmarks_import_only_public_names(path):
    assert private_imports(path) == []


def test_command_line_imports_only_public_names():
    assert private_imports(ROOT / "skpathnet" / "__main__.py") == []


def test_private_import_check_sees_relative_and_private_names(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("from skpathnet.utils._clips import make_clips\n"
                      "from skpathnet.experiments import _checkpoint, evaluate\n"
                      "import skpathnet.engine._sgd\n"
                      "from .experiments import checkpoint\n"
                      "from skpathnet.utils import make_clips\n")
    assert private_imports(script) == [
        "skpathnet.utils._clips", "skpathnet.experiments:_checkpoint", "skpathnet.engine._sgd",
    ]


@pytest.mark.parametrize("name", NAMESPACES)
def test_public_namespaces_export_what_they_list(name):
    module = importlib.import_module(name)
    assert sorted(set(module.__all__) - set(dir(module))) == []
    assert len(module.__all__) == len(set(module.__all__))


def test_checkpoint_helpers_are_those_the_runner_uses():
    from skpathnet.experiments import _checkpoint, checkpoint

    for name in checkpoint.__all__:
        assert getattr(checkpoint, name) is getattr(_checkpoint, name)
