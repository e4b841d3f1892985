"""Present public objects as members of the package that exports them.

Objects defined in private modules (``engine._core._records.Message``) carry that private module in
``__module__``, which leaks into reprs, tracebacks and the API reference. Like trio's
``fixup_module_metadata``, :func:`fixup_module_metadata` rewrites ``__module__`` (and
``__qualname__`` for nested attributes) to the public package name. Pickles keep working
because the public package re-exports every rewritten name under the same qualified name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def fixup_module_metadata(
    module_name: str, namespace: Mapping[str, Any], names: Iterable[str]
) -> None:
    """Set ``__module__`` of each public class and function in ``names`` to ``module_name``.

    Args:
        module_name: The public package, e.g. ``"engine"``.
        namespace: The package's globals, holding the re-exported objects.
        names: The package's ``__all__``.

    Only objects defined inside the top-level package's own modules are touched (never a
    re-exported third-party object), and each object at most once: O(len(names)) plus the
    methods of each class.
    """
    root = module_name.partition(".")[0]
    seen: set[int] = set()

    def fix(obj: Any, qualname: str) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        mod = getattr(obj, "__module__", None)
        if not isinstance(mod, str) or not mod.startswith(root + "."):
            return
        obj.__module__ = module_name
        if isinstance(obj, type):
            obj.__qualname__ = qualname
            for attr_name, attr_value in list(vars(obj).items()):
                if callable(attr_value) and hasattr(attr_value, "__qualname__"):
                    fix(attr_value, f"{qualname}.{attr_name}")
        elif hasattr(obj, "__qualname__"):
            obj.__qualname__ = qualname

    for name in names:
        value = namespace[name]
        if isinstance(value, type) or callable(value):
            fix(value, name)
