"""Credentials hidden in what a conformance report shows.

The harness gives each run a token of its own; a client may still send, or print, a real key
(its own environment's, say). Every report (text, JSON, JUnit, HTML) shows the client's
words and requests through :func:`masking`, so no credential reaches a CI artifact whole.

Example::

    mask = masking(result.run for result in report.results)
    mask("401 for Bearer sk-real-secret-123456")   # '401 for Bearer sk-r…56'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from sora_mock.conformance.run import Run
from sora_mock.contract import Request
from sora_mock.engine import mask_token

#: What stands for the harness's own token (a shell variable in curl commands).
TOKEN_VARIABLE = "SORA_API_KEY"
# A bearer credential written in free text (the client's output, an error message).
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)([^\s\"'`,;<>]+)")
# Credentials shorter than this are masked only after "Bearer" (a bare "x" is no secret).
_MIN_SECRET = 8

Mask = Callable[[str], str]


def masking(runs: Iterable[Run]) -> Mask:
    """What hides credentials in text about ``runs``: each run's token becomes
    ``$SORA_API_KEY``; any other bearer value, and any other credential a client sent in an
    ``Authorization`` header, is cut short with :func:`~sora_mock.engine.mask_token`."""
    runs = list(runs)
    tokens = {run.token for run in runs} - {""}
    sent = {
        secret
        for run in runs
        for exchange in run.exchanges
        for secret in [credential(exchange.request)]
        if len(secret) >= _MIN_SECRET and secret not in tokens
    }

    def bearer(found: re.Match[str]) -> str:
        if found[3].startswith("$"):
            return found[0]
        return f"{found[1]}{found[2]}{mask_token(found[3])}"

    def mask(said: str) -> str:
        for token in sorted(tokens, key=len, reverse=True):
            said = said.replace(token, f"${TOKEN_VARIABLE}")
        said = _BEARER.sub(bearer, said)
        for secret in sorted(sent, key=len, reverse=True):
            said = said.replace(secret, mask_token(secret) or "")
        return said

    return mask


def credential(request: Request) -> str:
    """The credential in ``request``'s ``Authorization`` header ("" when none)."""
    return _split(request.headers.get("authorization", ""))[1]


def mask_authorization(value: str) -> str:
    """An ``Authorization`` value with its credential cut short (a ``Bearer`` scheme kept).

    Example::

        mask_authorization("Bearer sk-real-secret-123456")   # 'Bearer sk-r…56'
    """
    scheme, secret = _split(value)
    masked = mask_token(secret) or ""
    return f"{scheme} {masked}" if scheme else masked


def _split(value: str) -> tuple[str, str]:
    """An ``Authorization`` value's ``Bearer`` scheme as written ("" for any other) and its
    credential (the whole value for any other scheme)."""
    value = value.strip()
    scheme, space, secret = value.partition(" ")
    if space and scheme.lower() == "bearer":
        return scheme, secret.strip()
    return "", value
