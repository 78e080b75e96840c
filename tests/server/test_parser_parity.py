"""h11 and httptools answer the same bytes the same way: each raw request in the table gets
the stated answer from sora-mock's server on either parser.

A refused request gets the 400 envelope and the connection closes (the rules are in
:mod:`sora_mock.server.heads`); others reach the app and get its answer.
"""

from __future__ import annotations

import pytest

from sora_mock.server.runner import BackgroundServer
from tests.server.wire import (
    CREATE_BODY,
    assert_refused,
    create_bytes,
    send_and_read,
    split_responses,
)

_HEALTH = b"GET /__mock/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
_LENGTH = b"Content-Length: %d" % len(CREATE_BODY)


def _get(line: bytes = b"GET /__mock/health HTTP/1.1", *headers: bytes) -> bytes:
    """A bodiless request: ``line``, a Host, ``headers``, then ``Connection: close``."""
    return b"\r\n".join([line, b"Host: x", *headers, b"Connection: close", b"", b""])


def _chunked(chunks: bytes, encoding: bytes = b"chunked") -> bytes:
    """A chunked POST to an operation that answers 405 once its body is read."""
    head = b"POST /__mock/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: %s\r\n" % encoding
    return head + b"Connection: close\r\n\r\n" + chunks


def _create(old: bytes, new: bytes) -> bytes:
    """A valid create with ``old`` replaced by ``new`` in its head."""
    return create_bytes(close=True).replace(old, new, 1)


#: (name, bytes, status): every row is answered ``status`` on both parsers.
CASES: list[tuple[str, bytes, int]] = [
    ("valid", _HEALTH, 200),
    ("http-1.0", b"GET /__mock/health HTTP/1.0\r\n\r\n", 200),
    ("absolute-form", _get(b"GET http://127.0.0.1/__mock/health HTTP/1.1"), 200),
    ("absolute-form-https-query", _get(b"GET HTTPS://h:1/__mock/health?x=1 HTTP/1.1"), 200),
    ("absolute-form-no-path", _get(b"GET http://127.0.0.1 HTTP/1.1"), 404),
    ("asterisk-form-options", _get(b"OPTIONS * HTTP/1.1"), 404),
    ("asterisk-form-get", _get(b"GET * HTTP/1.1"), 400),
    ("relative-target", _get(b"GET x HTTP/1.1"), 400),
    ("authority-form", _get(b"CONNECT 127.0.0.1:80 HTTP/1.1"), 400),
    ("other-scheme", _get(b"GET ftp://h/__mock/health HTTP/1.1"), 400),
    ("fragment", _get(b"GET /__mock/health#top HTTP/1.1"), 400),
    ("space-in-target", _get(b"GET /__mock/ health HTTP/1.1"), 400),
    ("nul-in-target", _get(b"GET /__mock/he\x00alth HTTP/1.1"), 400),
    ("high-byte-in-target", _get(b"GET /__mock/h\xffealth HTTP/1.1"), 400),
    ("bad-percent-escape", _get(b"GET /__mock/%zz HTTP/1.1"), 404),
    ("double-slash", _get(b"GET //__mock/health HTTP/1.1"), 404),
    ("lf-only", _HEALTH.replace(b"\r\n", b"\n"), 400),
    ("one-lf-only", _HEALTH.replace(b"\r\n", b"\n", 1), 400),
    ("cr-only", _HEALTH.replace(b"\r\n", b"\r"), 400),
    ("no-version", b"GET /__mock/health\r\n\r\n", 400),
    ("http-0.9", _get(b"GET /__mock/health HTTP/0.9"), 400),
    ("http-1.2", _get(b"GET /__mock/health HTTP/1.2"), 400),
    ("http-2.0", _get(b"GET /__mock/health HTTP/2.0"), 400),
    ("http-2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
    ("lower-case-version", _get(b"GET /__mock/health http/1.1"), 400),
    ("tab-separator", _get(b"GET\t/__mock/health HTTP/1.1"), 400),
    ("lower-case-method", _get(b"get /__mock/health HTTP/1.1"), 400),
    ("unknown-method", _get(b"FOO /__mock/health HTTP/1.1"), 400),
    ("webdav-method", _get(b"PROPFIND /__mock/health HTTP/1.1"), 400),
    ("method-not-a-token", _get(b"F(O /__mock/health HTTP/1.1"), 400),
    ("leading-space", b" " + _HEALTH, 400),
    ("no-host", b"GET /__mock/health HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
    ("two-hosts", _get(b"GET /__mock/health HTTP/1.1", b"Host: y"), 400),
    ("obs-fold", _get(b"GET /__mock/health HTTP/1.1", b"X-A: a", b" b"), 400),
    ("first-header-folded", b"GET /__mock/health HTTP/1.1\r\n Host: x\r\n\r\n", 400),
    ("space-before-colon", _get(b"GET /__mock/health HTTP/1.1", b"X-A : a"), 400),
    ("space-in-name", _get(b"GET /__mock/health HTTP/1.1", b"X A: a"), 400),
    ("separator-in-name", _get(b"GET /__mock/health HTTP/1.1", b"X(A): a"), 400),
    ("empty-name", _get(b"GET /__mock/health HTTP/1.1", b": a"), 400),
    ("no-colon", _get(b"GET /__mock/health HTTP/1.1", b"X-A"), 400),
    ("nul-in-value", _get(b"GET /__mock/health HTTP/1.1", b"X-A: a\x00b"), 400),
    ("control-in-value", _get(b"GET /__mock/health HTTP/1.1", b"X-A: a\x01b"), 400),
    ("del-in-value", _get(b"GET /__mock/health HTTP/1.1", b"X-A: a\x7fb"), 400),
    ("tab-in-value", _get(b"GET /__mock/health HTTP/1.1", b"X-A: a\tb"), 200),
    ("obs-text-in-value", _get(b"GET /__mock/health HTTP/1.1", b"X-A: a\xffb"), 200),
    ("trailing-space-in-value", _get(b"GET /__mock/health HTTP/1.1", b"X-A: a  "), 200),
    ("unknown-expect", _get(b"GET /__mock/health HTTP/1.1", b"Expect: x"), 200),
    ("upgrade-h2c", _get(b"GET /__mock/health HTTP/1.1", b"Upgrade: h2c"), 200),
    ("body-on-get", _get(b"GET /__mock/health HTTP/1.1", b"Content-Length: 3") + b"abc", 200),
    ("create", create_bytes(close=True), 200),
    ("content-length-twice", _create(_LENGTH, _LENGTH + b"\r\n" + _LENGTH), 400),
    ("content-length-conflict", _create(_LENGTH, _LENGTH + b"\r\nContent-Length: 5"), 400),
    ("content-length-list", _create(_LENGTH, _LENGTH + b", %d" % len(CREATE_BODY)), 400),
    ("content-length-plus", _create(b"Length: ", b"Length: +"), 400),
    ("content-length-negative", _create(_LENGTH, b"Content-Length: -1"), 400),
    ("content-length-hex", _create(_LENGTH, b"Content-Length: 0x10"), 400),
    ("content-length-spaced", _create(_LENGTH, b"Content-Length: 1 0"), 400),
    ("content-length-huge", _create(_LENGTH, b"Content-Length: " + b"9" * 25), 400),
    ("chunked", _chunked(b"3\r\nabc\r\n0\r\n\r\n"), 405),
    ("chunked-upper-case", _chunked(b"3\r\nabc\r\n0\r\n\r\n", b"CHUNKED"), 405),
    ("chunk-extension", _chunked(b"3;a=b\r\nabc\r\n0\r\n\r\n"), 405),
    ("chunk-size-space", _chunked(b"3 \r\nabc\r\n0\r\n\r\n"), 405),
    ("chunk-trailer", _chunked(b"3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"), 405),
    ("chunk-size-not-hex", _chunked(b"xyz\r\nabc\r\n0\r\n\r\n"), 400),
    ("chunk-size-negative", _chunked(b"-3\r\nabc\r\n0\r\n\r\n"), 400),
    ("chunk-without-crlf", _chunked(b"3\r\nabcX0\r\n\r\n"), 400),
    ("gzip-then-chunked", _chunked(b"0\r\n\r\n", b"gzip, chunked"), 400),
    ("chunked-then-gzip", _chunked(b"0\r\n\r\n", b"chunked, gzip"), 400),
    ("identity", _chunked(b"", b"identity"), 400),
    ("chunked-twice", _chunked(b"0\r\n\r\n", b"chunked\r\nTransfer-Encoding: chunked"), 400),
    ("chunked-and-length", _chunked(b"0\r\n\r\n", b"chunked\r\nContent-Length: 5"), 400),
    ("tls-client-hello", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40, 400),
    ("binary", b"\x00\x01\x02\x03\r\n\r\n", 400),
]


@pytest.mark.parametrize(
    ("data", "status"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_both_parsers_answer_the_same(
    mock_server: BackgroundServer, data: bytes, status: int
) -> None:
    raw, closed = send_and_read(mock_server.base_url, data)
    answers = split_responses(raw)
    assert [answer.status for answer in answers] == [status], raw[:300]
    assert closed
    if status == 400:
        assert_refused(answers[0])


def test_the_table_names_each_case_once() -> None:
    assert len({name for name, _, _ in CASES}) == len(CASES)
