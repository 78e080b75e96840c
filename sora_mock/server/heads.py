"""The request heads the server accepts, the same on either HTTP parser.

h11 and httptools (llhttp) disagree on many edge cases; the protocols of
:mod:`sora_mock.server.protocols` hold both to these rules, and a refused head answers
``400`` with the error envelope, then the connection closes:

- the method is one of RFC 9110's (``GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE``)
  or ``PATCH``, in upper case;
- the target is in origin form (``/path?query``), or in absolute form
  (``http://host/path?query``, taken as its origin form; no path means ``/``), or ``*``
  for ``OPTIONS``; no fragment (``#``);
- the version is ``HTTP/1.0`` or ``HTTP/1.1``, and an ``HTTP/1.1`` request has exactly one
  ``Host`` (``HTTP/1.0`` at most one);
- no header value holds a control character other than tab;
- a body is framed by one ``Content-Length`` (a single number, not repeated) or by
  ``Transfer-Encoding: chunked`` alone, never both (RFC 9112 §6.3: both at once is how
  requests are smuggled);
- lines end in CRLF (not LF or CR alone) and no header is folded over lines (obs-fold):
  :func:`raw_head_refusal`, which h11 needs (llhttp refuses these itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: The methods a request may use.
METHODS = frozenset(
    [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"CONNECT", b"OPTIONS", b"TRACE", b"PATCH"]
)
#: The HTTP versions served.
VERSIONS = frozenset([b"1.0", b"1.1"])

_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_ABSOLUTE = re.compile(rb"https?://[^/?#]*", re.IGNORECASE)
# h11 ends a head at the first LF followed by an empty line (with or without CR).
_HEAD_END = re.compile(rb"\n\r?\n")
_LONE_CR = re.compile(rb"\r[^\n]")


def origin_form(method: bytes, target: bytes) -> bytes | None:
    """``target`` as the server routes it (``/path?query``), or None if it is refused."""
    if target.startswith(b"/"):
        return None if b"#" in target else target
    if target == b"*":
        return target if method == b"OPTIONS" else None
    prefix = _ABSOLUTE.match(target)
    if prefix is None or b"#" in target:
        return None
    rest = target[prefix.end() :]
    return rest if rest.startswith(b"/") else b"/" + rest


def refusal(method: bytes, version: bytes, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """Why a parsed head (header names in lower case) is refused, or None if it is not.

    The target is judged apart, by :func:`origin_form`.
    """
    if method not in METHODS:
        return "unsupported method"
    if version not in VERSIONS:
        return "unsupported HTTP version"
    hosts = lengths = encodings = 0
    chunked = True
    values = []
    for name, value in headers:
        values.append(value)
        if name == b"host":
            hosts += 1
        elif name == b"content-length":
            lengths += 1
        elif name == b"transfer-encoding":
            encodings += 1
            chunked = value.strip().lower() == b"chunked"
    # One search over all values (joined by a tab, which values may hold).
    if _CONTROL.search(b"\t".join(values)):
        return "control character in a header value"
    if hosts > 1 or (hosts == 0 and version == b"1.1"):
        return "an HTTP/1.1 request needs exactly one Host header"
    if lengths > 1:
        return "more than one Content-Length"
    if encodings and (encodings > 1 or not chunked or lengths):
        return "Transfer-Encoding other than chunked alone"
    return None


def raw_head_refusal(data: bytes) -> str | None:
    """Why the head at the start of ``data`` is refused for its bytes, or None (also while
    the head is incomplete): a bare LF, a folded header line, a repeated or listed
    ``Content-Length`` (which h11 merges into one); a CR without LF (for which h11 would
    wait)."""
    end = _HEAD_END.search(data)
    if end is None:
        return "a line ends in CR without LF" if _LONE_CR.search(data) else None
    head = data[: end.end()]
    crlf = head.count(b"\r\n")
    if head.count(b"\n") != crlf:
        return "a line ends in LF without CR"
    if head.count(b"\r") != crlf:
        return "a line ends in CR without LF"
    lines = head[: end.start()]
    if b"\n " in lines or b"\n\t" in lines:
        return "a header folded over lines"
    lower = lines.lower()
    if lower.count(b"\ncontent-length") > 1:
        return "more than one Content-Length"
    at = lower.find(b"\ncontent-length")
    if at >= 0 and b"," in lower[at:].split(b"\n", 2)[1]:
        return "more than one Content-Length"
    return None


__all__ = ["METHODS", "VERSIONS", "origin_form", "raw_head_refusal", "refusal"]
