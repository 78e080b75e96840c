"""Names a package loads on first use (PEP 562), so that importing the package is cheap."""

from __future__ import annotations

import importlib
import sys

# Not `from typing import TYPE_CHECKING`: `import sora_mock` runs this module, and typing
# would be most of what that costs. Type checkers treat any constant of this name alike.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def lazy_names(
    package: str, exports: dict[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose names in ``exports`` (name →
    module) are imported on first use and then kept in the package's namespace.

    Example::

        __getattr__, __dir__ = lazy_names(__name__, {"Engine": "sora_mock.engine"})
    """
    namespace = vars(sys.modules[package])

    def load(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def names() -> list[str]:
        return sorted(namespace.get("__all__", ()))

    return load, names
