"""Read an HTML report back with the standard library's parsers: its tags, text and cells,
and its inline SVG figures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: The SVG namespace, as ElementTree spells a tag in it.
SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Tag:
    """An opening tag and its attributes."""

    name: str
    attrs: dict[str, str]


@dataclass(frozen=True)
class TableCell:
    """A ``<td>``: its attributes and its text."""

    attrs: dict[str, str]
    text: str


@dataclass
class Parsed:
    """Every tag, the text of the document (entities decoded) and the table cells."""

    tags: list[Tag] = field(default_factory=list)
    text: str = ""
    cells: list[TableCell] = field(default_factory=list)

    def external_references(self) -> list[str]:
        """``src``/``href`` values that would reach the network."""
        return [
            value
            for tag in self.tags
            for name, value in tag.attrs.items()
            if name in ("src", "href") and value.lower().startswith(("http:", "https:", "//"))
        ]

    def named(self, name: str) -> list[Tag]:
        """The tags called ``name``."""
        return [tag for tag in self.tags if tag.name == name]


def parse(html: str) -> Parsed:
    """Parse ``html``."""
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.parsed


def svgs(html: str) -> list[ET.Element]:
    """Each inline ``<svg>`` in ``html``, in order, parsed as XML (so it must be well formed)."""
    found, start = [], html.find("<svg")
    while start >= 0:
        end = html.index("</svg>", start) + len("</svg>")
        found.append(ET.fromstring(html[start:end]))
        start = html.find("<svg", end)
    return found


def classes(root: ET.Element, name: str) -> list[ET.Element]:
    """The elements under ``root`` (itself included) whose ``class`` is ``name``."""
    return [e for e in root.iter() if e.get("class") == name]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parsed = Parsed()
        self._cell: dict[str, str] | None = None
        self._cell_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.parsed.tags.append(Tag(tag, values))
        if tag == "td":
            self._cell, self._cell_text = values, ""

    def handle_data(self, data: str) -> None:
        self.parsed.text += data
        if self._cell is not None:
            self._cell_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.parsed.cells.append(TableCell(self._cell, self._cell_text))
            self._cell = None
