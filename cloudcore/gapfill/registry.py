"""The fill methods by name: every `FillMethod` subclass in `cloudcore.gapfill.methods`.

Adding a method is adding one module there. The command line's `--method` choices, the
dashboard's menu and its help, `cloudcore.fill(method=...)` and the README's table of methods
all come from here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from ..errors import InvalidInputError
from . import methods as _methods_package
from .base import FillMethod

DEFAULT_METHOD = "blend-matched"
"""The method `fill` uses unless told otherwise: the lowest error on real Landsat dates with
real clouds and SLC-off stripes stamped on them (about half `nearest`'s, a third below
`nearest-matched`'s; README, "Gap filling")."""

# Menus list the methods in this order; a method not named here comes after them, by name.
MENU_ORDER = ("nearest", "nearest-matched", "blend-matched", "median", "best-pixel")


def _discover() -> dict[str, FillMethod]:
    found: dict[str, FillMethod] = {}
    for module_info in pkgutil.iter_modules(_methods_package.__path__):
        module = importlib.import_module(f"{_methods_package.__name__}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, FillMethod) or inspect.isabstract(cls) or cls.__module__ != module.__name__:
                continue
            if cls.name in found:
                raise RuntimeError(f"Two fill methods are named {cls.name!r}: {found[cls.name]!r} and {cls.__name__}.")
            found[cls.name] = cls()

    def rank(name: str) -> tuple[int, str]:
        return (MENU_ORDER.index(name) if name in MENU_ORDER else len(MENU_ORDER), name)

    return {name: found[name] for name in sorted(found, key=rank)}


METHODS: Mapping[str, FillMethod] = MappingProxyType(_discover())
"""Name -> the method with its default options, in menu order."""
FILL_METHODS: tuple[str, ...] = tuple(METHODS)


def get_method(method: str | FillMethod) -> FillMethod:
    """The method a name stands for (a FillMethod passes through, e.g. one with its own options).

    Raises:
        InvalidInputError: no method has that name; the message lists those that do.
    """
    if isinstance(method, FillMethod):
        return method
    try:
        return METHODS[method]
    except (KeyError, TypeError):
        raise InvalidInputError(
            f"Unknown fill method {method!r}: use one of {', '.join(FILL_METHODS)}.", parameter="method"
        ) from None


def describe_methods() -> list[tuple[str, str, bool]]:
    """(name, one-line description, reads every donor in the window) of every method, in menu order."""
    return [(name, method.description, method.needs_all_donors) for name, method in METHODS.items()]


def methods_markdown() -> str:
    """The README's table of methods."""
    lines = ["| method | fills each hole with | donors read |", "|---|---|---|"]
    for name, description, all_donors in describe_methods():
        shown = f"`{name}` (default)" if name == DEFAULT_METHOD else f"`{name}`"
        reads = "every donor in the window" if all_donors else "nearest first, until every hole has one"
        lines.append(f"| {shown} | {description} | {reads} |")
    return "\n".join(lines)
