"""cnimodel: model Kubernetes container networking the way the real CNI plugins build it."""

from pathlib import Path

__version__ = "0.1.0"

# Installed, setuptools maps plugins/ and topologies/ to cnimodel.plugins and cnimodel.topologies. In a
# source checkout (``python -m pytest`` from the repository root) they sit beside this package instead.
_root = Path(__file__).resolve().parent.parent
if (_root / "plugins" / "__init__.py").is_file() and not (Path(__file__).parent / "plugins").exists():
    __path__.append(str(_root))  # type: ignore[name-defined]
