"""YAML documents that remember where each value stands, for errors with file:line:column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sora_mock.errors import SourceError

# libyaml's parser when PyYAML was built with it (its wheels are): ten times faster.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML data plus its node tree, so a JSON path can be traced to a line."""

    data: Any
    source: str
    root: yaml.Node | None

    @classmethod
    def from_text(
        cls, text: str, source: str, error: type[SourceError] = SourceError
    ) -> YamlDocument:
        """Parse ``text``; a syntax error or a duplicate key raises ``error`` with its place."""
        try:
            root = yaml.compose(text, Loader=_LOADER)
            data = None if root is None else _LOADER(text).construct_document(root)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "invalid YAML"
            line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
            raise error(
                f"invalid YAML: {problem}", source=source, line=line, column=column
            ) from None
        except yaml.YAMLError as exc:
            raise error(f"invalid YAML: {exc}", source=source) from None
        if root is not None:
            _refuse_duplicate_keys(root, source, error)
        return cls(data=data, source=source, root=root)

    @classmethod
    def from_path(cls, path: str | Path, error: type[SourceError] = SourceError) -> YamlDocument:
        """Read and parse a file; an unreadable file raises ``error`` naming it."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise error(f"cannot read file: {exc}", source=str(path)) from None
        return cls.from_text(text, str(path), error)

    def locate(self, path: Sequence[str | int]) -> tuple[int | None, int | None]:
        """Line and column (1-based) of the deepest node on ``path`` that exists."""
        node = self.root
        if node is None:
            return None, None
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1, node.start_mark.column + 1

    def error(
        self, message: str, path: Sequence[str | int], error: type[SourceError] = SourceError
    ) -> SourceError:
        """An ``error`` about the value at ``path``, placed at its line and column."""
        line, column = self.locate(path)
        where = "/".join(str(p) for p in path)
        text = f"{where}: {message}" if where else message
        return error(text, source=self.source, line=line, column=column)


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if str(key.value) == str(part):
                return value  # type: ignore[no-any-return]
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]  # type: ignore[no-any-return]
    return None


def _refuse_duplicate_keys(node: yaml.Node, source: str, error: type[SourceError]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen and name != "<<":
                mark = key.start_mark
                raise error(
                    f"duplicate key {name!r}",
                    source=source,
                    line=mark.line + 1,
                    column=mark.column + 1,
                )
            seen.add(name)
            _refuse_duplicate_keys(value, source, error)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(item, source, error)
