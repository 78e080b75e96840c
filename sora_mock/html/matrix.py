"""A matrix of rows × columns of verdicts as an HTML table: each cell says its state in a
symbol, a word and a colour, so it reads without colour too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sora_mock.html.page import text

__all__ = ["SYMBOLS", "Cell", "Column", "Matrix", "MatrixRow", "State", "matrix_table"]

State = Literal["kept", "broken", "n/a", "warned"]

#: Each state's symbol; its cell's CSS class is the state's name (``n-a`` for ``n/a``).
SYMBOLS: dict[State, str] = {"kept": "✓", "broken": "✗", "n/a": "–", "warned": "!"}


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its key (the cells' key), a short title and a description (its tooltip)."""

    key: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Cell:
    """One verdict: its state, a tooltip, and a link (an ``#anchor``) to its evidence."""

    state: State
    note: str = ""
    link: str = ""


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """A row's name and its cells by column key (a missing key is ``n/a``)."""

    name: str
    cells: dict[str, Cell]


@dataclass(frozen=True, slots=True)
class Matrix:
    """Rows × columns of verdicts; ``corner`` names what the rows are."""

    corner: str
    columns: tuple[Column, ...]
    rows: tuple[MatrixRow, ...]


def matrix_table(matrix: Matrix) -> str:
    """The matrix as a ``<table class="matrix">`` and a legend below it."""
    head = "".join(
        f'<th scope="col" title="{text(c.description)}">{text(c.title)}</th>'
        for c in matrix.columns
    )
    body = "".join(
        f'<tr><th scope="row">{text(row.name)}</th>'
        + "".join(_cell(row.cells.get(c.key, Cell("n/a")), row, c) for c in matrix.columns)
        + "</tr>"
        for row in matrix.rows
    )
    legend = "   ".join(f"{symbol} {state}" for state, symbol in SYMBOLS.items())
    return (
        f'<div class="matrix"><table class="matrix"><thead><tr><th scope="col">'
        f"{text(matrix.corner)}</th>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        f'<p class="legend">{text(legend)}</p>'
    )


def _cell(cell: Cell, row: MatrixRow, column: Column) -> str:
    css = cell.state.replace("/", "-")
    label = f"{SYMBOLS[cell.state]} {cell.state}"
    content = f'<a href="{text(cell.link)}">{text(label)}</a>' if cell.link else text(label)
    where = f"{row.name} × {column.key}"
    note = f"{where}: {cell.note}" if cell.note else where
    return (
        f'<td class="{css}" data-row="{text(row.name)}" data-column="{text(column.key)}" '
        f'data-state="{text(cell.state)}" title="{text(note)}">{content}</td>'
    )
