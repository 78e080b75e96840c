"""Self-contained HTML: pages, tables and inline SVG with no external assets, for reports.

Every string given as text is escaped; only arguments documented as HTML are taken as is.
Nothing here knows the API or the reports that use it.
"""

from sora_mock.html.matrix import SYMBOLS, Cell, Column, Matrix, MatrixRow, State, matrix_table
from sora_mock.html.page import Fact, code_block, evidence, facts, page, section, text
from sora_mock.html.timeline import (
    Mark,
    Timeline,
    short_path,
    status_colour,
    timeline_figure,
    timeline_svg,
)

__all__ = [
    "SYMBOLS",
    "Cell",
    "Column",
    "Fact",
    "Mark",
    "Matrix",
    "MatrixRow",
    "State",
    "Timeline",
    "code_block",
    "evidence",
    "facts",
    "matrix_table",
    "page",
    "section",
    "short_path",
    "status_colour",
    "text",
    "timeline_figure",
    "timeline_svg",
]
