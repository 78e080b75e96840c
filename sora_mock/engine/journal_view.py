"""What ``GET /__mock/journal`` shows: its filters, and each entry with its bodies, masked.

Bodies are cut and decoded here, when the journal is read, never when a request is
recorded. Tokens never show whole: the ``Authorization`` header, and any copy of the
request's bearer token in a body, are masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sora_mock.engine.inbound import bearer_token
from sora_mock.engine.journal import JournalEntry, mask_token
from sora_mock.engine.lifecycle import TERMINAL

#: The task states ``?status=`` takes besides an HTTP status.
TASK_STATUSES = ("pending", "processing", *sorted(TERMINAL))
#: Media types whose bodies are shown as text (others by their size only).
_TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/xml")
_TEXT_SUFFIXES = ("+json", "+xml", "yaml", "x-www-form-urlencoded")
_DEFAULT_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """The filters of a journal read; each None (or default) lets every entry through.

    ``since``: entries with a sequence number above it. ``status``: an HTTP status
    (``404``), a class (``4xx``) or a task state (``completed``). ``token``: the masked
    form an entry shows, or the full token its request carried (a callback matches the
    full token of its task by the masked form). ``mock_routes``: False leaves out the
    requests to the mock's own routes (``operation: mock``). ``newest``: the ``limit``
    entries taken are the newest that pass, not the oldest (still listed oldest first).
    """

    since: int = 0
    limit: int = _DEFAULT_LIMIT
    newest: bool = False
    task_id: str | None = None
    status: str | None = None
    token: str | None = None
    mock_routes: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> JournalQuery:
        """The query of a request's parameters.

        Raises:
            ValueError: a parameter's value is not one it takes (the message says which).
        """
        status = params.get("status")
        if status is not None and not _is_status(status):
            raise ValueError(
                "status must be an HTTP status (404), a class (4xx) or a task state "
                f"({', '.join(TASK_STATUSES)}), not {status[:40]!r}"
            )
        mock_routes = params.get("mock_routes", "true").lower()
        if mock_routes not in ("true", "false"):
            raise ValueError("mock_routes must be true or false")
        return cls(
            since=_whole(params, "since", 0),
            limit=_whole(params, "limit", _DEFAULT_LIMIT),
            newest=_newest(params.get("order", "oldest")),
            task_id=params.get("task_id") or None,
            status=status.lower() if status else None,
            token=params.get("token") or None,
            mock_routes=mock_routes == "true",
        )

    def chosen(self, entries: Iterable[JournalEntry]) -> list[JournalEntry]:
        """The entries this query returns, oldest first."""
        passing = [entry for entry in entries if self.matches(entry)]
        if self.limit == 0:
            return []
        return passing[-self.limit :] if self.newest else passing[: self.limit]

    def matches(self, entry: JournalEntry) -> bool:
        """True when ``entry`` passes every filter."""
        if entry.seq <= self.since:
            return False
        if not self.mock_routes and entry.operation == "mock":
            return False
        if self.task_id is not None and entry.task_id != self.task_id:
            return False
        if self.status is not None and not _status_matches(self.status, entry):
            return False
        return self.token is None or _token_matches(self.token, entry)


def entry_view(entry: JournalEntry) -> dict[str, Any]:
    """An entry as the journal route shows it: its fields, and its request and response
    (``Content-Type``, the masked ``Authorization``, bodies cut to the journal's limit and
    decoded as text)."""
    token = bearer_token(entry.authorization)
    view = entry.as_dict()
    request = _message(entry.request_type, entry.request_body, entry.request_size, token)
    if entry.authorization is not None:
        request["headers"]["authorization"] = _masked_authorization(entry.authorization)
    view["request"] = request
    view["response"] = _message(
        entry.response_type, entry.response_body, entry.response_size, token
    )
    return view


def _message(content_type: str | None, body: bytes, size: int, token: str | None) -> dict[str, Any]:
    headers = {} if content_type is None else {"content-type": content_type}
    return {
        "headers": headers,
        "body": _text(body, content_type or "", token, len(body) < size) if body else None,
        "body_size": size,
        "body_truncated": 0 < len(body) < size,
        "body_dropped": size > 0 and not body,
    }


def _masked_authorization(value: str) -> str:
    scheme, space, secret = value.strip().partition(" ")
    if space and scheme.lower() == "bearer":
        return f"{scheme} {mask_token(secret.strip())}"
    return mask_token(value) or ""


def _text(body: bytes, content_type: str, token: str | None, cut: bool) -> str | None:
    """The body as text (a multi-byte character cut by the limit shows as U+FFFD), or None
    for a media type that is not text. The request's token is masked in it, a start of it
    that the limit cut (``cut``) too."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media and not (media.startswith(_TEXT_TYPES) or media.endswith(_TEXT_SUFFIXES)):
        return None
    text = body.decode("utf-8", "replace")
    if token is not None:
        masked = mask_token(token) or ""
        text = text.replace(token, masked)
        if cut:
            start = next((n for n in range(len(token) - 1, 3, -1) if text.endswith(token[:n])), 0)
            text = text[: len(text) - start] + (masked if start else "")
    return text


def _newest(order: str) -> bool:
    if order not in ("oldest", "newest"):
        raise ValueError(f"order must be oldest or newest, not {order[:40]!r}")
    return order == "newest"


def _whole(params: Mapping[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise ValueError(f"{name} must be a whole number of 0 or more, not {value[:40]!r}")
    return int(value)


def _is_status(value: str) -> bool:
    text = value.lower()
    if text in TASK_STATUSES:
        return True
    if len(text) == 3 and text.endswith("xx"):
        return text[0] in "12345"
    return len(text) == 3 and text.isascii() and text.isdigit() and 100 <= int(text) <= 599


def _status_matches(wanted: str, entry: JournalEntry) -> bool:
    if wanted in TASK_STATUSES:
        return entry.task_status == wanted
    if wanted.endswith("xx"):
        return str(entry.status)[:1] == wanted[0] and 100 <= entry.status <= 599
    return entry.status == int(wanted)


def _token_matches(wanted: str, entry: JournalEntry) -> bool:
    if entry.token is None:
        return False
    if wanted == entry.token:
        return True
    if mask_token(wanted) != entry.token:
        return False
    if entry.operation == "callback":  # sent by the mock: its task's token, masked
        return True
    return bearer_token(entry.authorization) == wanted
