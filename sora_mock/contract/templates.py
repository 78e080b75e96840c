"""Body templates of the ``x-sora-mock`` extension, compiled once and filled per answer.

A template is a JSON value. A string that is exactly ``"{name}"`` is replaced by the value
called ``name`` (of any JSON type); ``{name}`` inside a longer string is formatted in, and
``{{`` and ``}}`` stand for literal braces.

Example::

    template = Template.compile({"id": "{id}", "object": "task", "note": "made {id}"})
    template.render({"id": "t-1"})  # {"id": "t-1", "object": "task", "note": "made t-1"}
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: A value source: the values in force for one answer.
Values = Mapping[str, Any]
_Fill = Callable[[Values], Any]

_WHOLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class Template:
    """A compiled template: :meth:`render` fills it; :attr:`names` are the values it uses."""

    source: Any
    names: frozenset[str]
    _fill: _Fill

    @classmethod
    def compile(cls, source: Any) -> Template:
        """Compile ``source``; a placeholder that is not a plain name raises ValueError."""
        names: set[str] = set()
        fill = _compile(source, names)
        return cls(source, frozenset(names), fill)

    def render(self, values: Values) -> Any:
        """The template with every placeholder replaced (new containers on every call)."""
        return self._fill(values)

    def paths(self, name: str) -> list[tuple[str | int, ...]]:
        """Where in the rendered value the whole-string placeholder ``{name}`` lands."""
        return list(_paths(self.source, "{" + name + "}", ()))


def _compile(source: Any, names: set[str]) -> _Fill:
    # The template becomes one Python expression over the values ``v``, evaluated once per
    # answer, as dataclasses generates its methods: keys and literals enter it through
    # repr(), so nothing in the spec is ever run as code.
    expression = _expression(source, names)
    fill: _Fill = eval(f"lambda v: {expression}", {"__builtins__": {}})
    return fill


def _expression(node: Any, names: set[str]) -> str:
    if isinstance(node, Mapping):
        items = ", ".join(
            f"{str(key)!r}: {_expression(value, names)}" for key, value in node.items()
        )
        return "{" + items + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_expression(item, names) for item in node) + "]"
    if isinstance(node, str):
        return _text_expression(node, names)
    if (
        node is None
        or isinstance(node, bool | int)
        or (isinstance(node, float) and math.isfinite(node))
    ):
        return repr(node)
    raise ValueError(f"{node!r} is not a JSON value")


def _text_expression(text: str, names: set[str]) -> str:
    whole = _WHOLE.fullmatch(text)
    if whole is not None:
        names.add(whole.group(1))
        return f"v[{whole.group(1)!r}]"
    fields = [field for _, field, _, _ in _FORMATTER.parse(text) if field is not None]
    if not fields:
        return repr(text.replace("{{", "{").replace("}}", "}"))
    for field in fields:
        if not _WHOLE.fullmatch("{" + field + "}"):
            raise ValueError(f"{text!r}: {{{field}}} is not a value name")
        names.add(field)
    return f"{text!r}.format_map(v)"


def _paths(node: Any, placeholder: str, at: tuple[str | int, ...]) -> Any:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _paths(value, placeholder, (*at, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _paths(item, placeholder, (*at, index))
    elif node == placeholder:
        yield at
