"""A self-contained HTML page: inline CSS, no script, no external asset; text escaped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape

__all__ = ["Fact", "code_block", "evidence", "facts", "page", "section", "text"]

_CSS = """
:root { color-scheme: light; --kept: #1b7f3b; --broken: #b3261e; --na: #6b6b6b;
  --warned: #8a5a00; --line: #d0d0d0; --soft: #f5f5f5; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
  padding: 1.5rem; max-width: 80rem; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 .75rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1.25rem 0 .4rem; }
code, pre { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: var(--soft); border: 1px solid var(--line); padding: .5rem .75rem;
  overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: .35rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
div.matrix { overflow-x: auto; }
table.matrix { border-collapse: collapse; margin: .5rem 0; }
table.matrix th, table.matrix td { border: 1px solid var(--line); padding: .25rem .5rem;
  text-align: center; white-space: nowrap; }
table.matrix th[scope=row] { text-align: left; font-weight: 500; }
table.matrix thead th { background: var(--soft); }
td.kept { color: var(--kept); background: #e8f5ec; }
td.broken { color: #fff; background: var(--broken); font-weight: 600; }
td.broken a { color: #fff; }
td.n-a { color: var(--na); background: #fafafa; }
td.warned { color: var(--warned); background: #fff4dc; }
p.legend, p.note { color: #444; margin: .35rem 0; }
figure.timeline { margin: .5rem 0 1rem; overflow-x: auto; }
figure.timeline figcaption { color: #444; font-size: 12.5px; }
svg.timeline { display: block; font: 11px ui-monospace, Menlo, Consolas, monospace; }
.verdict { margin: .25rem 0; }
div.evidence { display: flex; flex-wrap: wrap; gap: 0 1.5rem; align-items: flex-start; }
div.evidence > figure { flex: 0 0 auto; }
div.evidence > div.requests { flex: 1 1 24rem; min-width: 20rem; }
"""


@dataclass(frozen=True, slots=True)
class Fact:
    """One line of a summary: a name and its value (plain text)."""

    name: str
    value: str


def text(value: object) -> str:
    """``value`` as HTML text: every ``<``, ``&`` and quote escaped."""
    return escape(str(value), quote=True)


def page(title: str, body: str) -> str:
    """A whole HTML document around ``body`` (HTML); ``title`` is plain text."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{text(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<h1>{text(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def facts(items: Iterable[Fact]) -> str:
    """A definition list of plain-text facts."""
    rows = "".join(f"<dt>{text(f.name)}</dt><dd>{text(f.value)}</dd>" for f in items)
    return f'<dl class="facts">{rows}</dl>'


def section(title: str, body: str, anchor: str = "", level: int = 2) -> str:
    """A heading (plain text, with an optional ``id``) and ``body`` (HTML) below it."""
    ident = f' id="{text(anchor)}"' if anchor else ""
    return f"<section{ident}><h{level}>{text(title)}</h{level}>{body}</section>"


def code_block(lines: Iterable[str], attributes: Mapping[str, str] | None = None) -> str:
    """Plain-text lines in a ``<pre><code>`` block."""
    attrs = "".join(f' {name}="{text(value)}"' for name, value in (attributes or {}).items())
    return f"<pre{attrs}><code>{text(chr(10).join(lines))}</code></pre>"


def evidence(figure: str, requests: Iterable[str], more: int = 0) -> str:
    """A figure beside the requests it draws (both HTML), and a note for ``more`` not shown."""
    blocks = list(requests)
    if more > 0:
        blocks.append(f'<p class="note">… and {more} more</p>')
    return f'<div class="evidence">{figure}<div class="requests">{"".join(blocks)}</div></div>'
