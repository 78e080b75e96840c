"""Hypothesis strategies for sora-character requests, task ids and responses.

They come from the bundled contract plus the semantic rules it cannot express
(:mod:`sora_mock.contract.request_rules`): every valid create body validates against the spec and is
accepted by the mock; every :class:`InvalidCreate` carries the error the contract says it
must produce; every task body validates against the spec. Simple values come first in
each choice, so failures shrink to readable examples.

Example::

    from hypothesis import given
    from sora_mock.contract import strategies

    @given(strategies.invalid_create_requests())
    def test_server_rejects(case):
        response = client.post(URL, content=case.body,
                               headers={"content-type": case.content_type, **auth})
        assert (response.status_code, response.json()["error"].get("param")) == (
            case.status, case.param)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from sora_mock.contract.request_rules import (
    DEFAULT_TIMESTAMPS,
    MAX_TIMESTAMP_SPAN,
    VIDEO_EXTENSIONS,
)

__all__ = [
    "INVALID_CREATE_KINDS",
    "InvalidCreate",
    "TaskIdCase",
    "any_create_bodies",
    "create_requests",
    "error_envelopes",
    "invalid_create_requests",
    "malformed_task_ids",
    "raw_bodies",
    "task_bodies",
    "task_id_cases",
    "task_ids",
    "timestamps",
    "tokens",
    "unknown_task_ids",
    "valid_create_bodies",
    "valid_task_ids",
    "video_urls",
]

TASK_ID_PREFIX = "task-unified-"
MODEL = "sora-character"
JSON_TYPE = "application/json"

# Built from st.text rather than st.from_regex: the same shapes, drawn several times faster,
# which matters inside state machines that draw thousands of them while shrinking.
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_HOST = st.builds(
    lambda first, rest, tlds: first + rest + "".join(f".{t}" for t in tlds),
    st.sampled_from(_LOWER),
    st.text(_LOWER + _DIGITS, max_size=10),
    st.lists(st.text(_LOWER, min_size=2, max_size=6), min_size=1, max_size=2),
)
_SEGMENT = st.text(_LOWER + _LOWER.upper() + _DIGITS + "_-", min_size=1, max_size=12)
_SUFFIX = st.text(_LOWER + _DIGITS, min_size=8, max_size=8)
_CREATED = st.integers(1_700_000_000, 2_000_000_000)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)

# -- create requests -------------------------------------------------------------------------


def video_urls() -> st.SearchStrategy[str]:
    """Valid video URLs: http(s), each of the three extensions in any case, maybe a query."""
    extension = st.sampled_from(VIDEO_EXTENSIONS).flatmap(
        lambda ext: st.sampled_from([ext, ext.upper(), ext.capitalize()])
    )
    query = st.one_of(st.just(""), _SEGMENT.map(lambda q: f"?sig={q}"))
    return st.builds(
        lambda scheme, host, dirs, name, ext, q: (
            f"{scheme}://{host}/{''.join(d + '/' for d in dirs)}{name}{ext}{q}"
        ),
        st.sampled_from(["https", "http"]),
        _HOST,
        st.lists(_SEGMENT, max_size=3),
        _SEGMENT,
        extension,
        query,
    )


def timestamps() -> st.SearchStrategy[str]:
    """Valid ``start,end`` values (``0 < end - start <= 2``) in every accepted form.

    Whole seconds, decimals, spaces around the numbers and the documented default.
    """

    def decimal(start_tenths: int, span_tenths: int, places: int, spaced: bool) -> str:
        start, end = start_tenths / 10, (start_tenths + span_tenths) / 10
        text = (f"{start:.{places}f}", f"{end:.{places}f}")
        return (" , " if spaced else ",").join(text)

    whole = st.tuples(st.integers(0, 3600), st.integers(1, int(MAX_TIMESTAMP_SPAN))).map(
        lambda t: f"{t[0]},{t[0] + t[1]}"
    )
    decimals = st.builds(
        decimal,
        st.integers(0, 36000),
        st.integers(1, int(MAX_TIMESTAMP_SPAN * 10)),
        st.integers(1, 3),
        st.booleans(),
    )
    padded = whole.map(lambda text: f" {text.replace(',', ', ')} ")
    return st.one_of(st.just(DEFAULT_TIMESTAMPS), whole, decimals, padded)


def valid_create_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Create bodies the contract accepts: with and without ``timestamps`` and unknown fields."""
    return st.fixed_dictionaries(
        {"model": st.just(MODEL), "video_url": video_urls()},
        optional={
            "timestamps": timestamps(),
            "note": st.text(max_size=20),
            "seed": st.integers(),
        },
    )


@dataclass(frozen=True)
class InvalidCreate:
    """A create request the contract rejects, and the error it must produce.

    ``kind`` names what is broken (one of :data:`INVALID_CREATE_KINDS`); the request
    breaks exactly one thing, so ``param`` (the field the error envelope must name, or
    None when the whole body is at fault) is unambiguous.
    """

    kind: str
    body: bytes
    content_type: str = JSON_TYPE
    status: int = 400
    code: str = "invalid_request"
    param: str | None = None

    @property
    def text(self) -> str:
        """The body as text, for messages."""
        return self.body.decode("utf-8", "replace")


def _body(overrides: dict[str, Any], drop: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": MODEL, "video_url": "https://example.com/video.mp4"}
    body.update(overrides)
    if drop is not None:
        body.pop(drop, None)
    return body


def _case(kind: str, param: str | None) -> Any:
    def build(body: Any) -> InvalidCreate:
        return InvalidCreate(kind, json.dumps(body).encode(), param=param)

    return build


_NOT_A_STRING = st.one_of(
    st.integers(0, 10), st.booleans(), st.none(), st.lists(st.integers(0, 3), max_size=2)
)
_BAD_URLS = st.one_of(
    st.sampled_from(["not a url", "example.com/video.mp4", "https:///video.mp4"]),
    st.builds(
        lambda scheme, host: f"{scheme}://{host}/video.mp4",
        st.sampled_from(["ftp", "file", "rtmp", "data"]),
        _HOST,
    ),
)
_BAD_EXTENSIONS = st.builds(
    lambda host, name, ext: f"https://{host}/{name}{ext}",
    _HOST,
    _SEGMENT,
    st.sampled_from(
        [".avi", ".mkv", ".gif", ".mp3", ".mp4.txt", "", ".mpeg", ".webp", ".mov/", ".mp"]
    ),
)
_MALFORMED_TIMESTAMPS = st.one_of(
    st.sampled_from(
        ["", "1", "1,", ",2", "a,b", "1;3", "1,2,3", "-1,1", "1-3", "one,two", "1e0,2"]
    ),
    st.text(alphabet="abc;:-_ x", min_size=1, max_size=6),
)


def _too_wide(start: int, extra_tenths: int) -> str:
    end = start + MAX_TIMESTAMP_SPAN + extra_tenths / 10
    return f"{start},{end:g}"


_WIDE_TIMESTAMPS = st.builds(_too_wide, st.integers(0, 600), st.integers(1, 600))
_EMPTY_SPAN = st.tuples(st.integers(0, 600), st.integers(0, 5)).map(
    lambda t: f"{t[0] + t[1]},{t[0]}"
)
_BAD_CALLBACKS = st.one_of(
    st.sampled_from(["http://example.com/hook", "https://127.0.0.1/hook", "https://10.0.0.1/h"]),
    st.sampled_from(["https://localhost/hook", "https://192.168.1.2/hook", "not a url"]),
)
_INVALID_CASES: dict[str, st.SearchStrategy[InvalidCreate]] = {
    "missing_model": st.just(_body({}, drop="model")).map(_case("missing_model", "model")),
    "missing_video_url": st.just(_body({}, drop="video_url")).map(
        _case("missing_video_url", "video_url")
    ),
    "wrong_model": st.one_of(
        st.sampled_from(["sora-2", "Sora-Character", "", "sora-character "]),
        st.text(max_size=12).filter(lambda m: m != MODEL),
    ).map(lambda m: _case("wrong_model", "model")(_body({"model": m}))),
    "model_wrong_type": _NOT_A_STRING.map(
        lambda m: _case("model_wrong_type", "model")(_body({"model": m}))
    ),
    "video_url_wrong_type": _NOT_A_STRING.map(
        lambda u: _case("video_url_wrong_type", "video_url")(_body({"video_url": u}))
    ),
    "bad_url": _BAD_URLS.map(lambda u: _case("bad_url", "video_url")(_body({"video_url": u}))),
    "wrong_extension": _BAD_EXTENSIONS.map(
        lambda u: _case("wrong_extension", "video_url")(_body({"video_url": u}))
    ),
    "malformed_timestamps": _MALFORMED_TIMESTAMPS.map(
        lambda t: _case("malformed_timestamps", "timestamps")(_body({"timestamps": t}))
    ),
    "too_wide_timestamps": _WIDE_TIMESTAMPS.map(
        lambda t: _case("too_wide_timestamps", "timestamps")(_body({"timestamps": t}))
    ),
    "empty_timestamp_span": _EMPTY_SPAN.map(
        lambda t: _case("empty_timestamp_span", "timestamps")(_body({"timestamps": t}))
    ),
    "timestamps_wrong_type": st.one_of(
        st.integers(0, 10), st.just([0, 2]), st.none(), st.floats(0, 5)
    ).map(lambda t: _case("timestamps_wrong_type", "timestamps")(_body({"timestamps": t}))),
    "bad_callback_url": _BAD_CALLBACKS.map(
        lambda c: _case("bad_callback_url", "callback_url")(_body({"callback_url": c}))
    ),
    "malformed_json": st.sampled_from(
        [b"{", b'{"model": "sora-character",}', b"model=sora-character", b"\xff\xfe", b"{'a': 1}"]
    ).map(lambda raw: InvalidCreate("malformed_json", raw)),
    "empty_body": st.just(InvalidCreate("empty_body", b"")),
    "not_an_object": st.one_of(
        st.lists(st.integers(0, 3), max_size=2), st.text(max_size=5), st.integers()
    ).map(lambda v: InvalidCreate("not_an_object", json.dumps(v).encode())),
    "wrong_content_type": st.sampled_from(
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
    ).map(
        lambda ct: InvalidCreate(
            "wrong_content_type", json.dumps(_body({})).encode(), content_type=ct
        )
    ),
}

#: Every kind of invalid create request :func:`invalid_create_requests` can produce.
INVALID_CREATE_KINDS: tuple[str, ...] = tuple(_INVALID_CASES)


def invalid_create_requests(
    kinds: tuple[str, ...] | None = None,
) -> st.SearchStrategy[InvalidCreate]:
    """Create requests the contract rejects, each labelled with the error it must produce.

    Args:
        kinds: restrict to these kinds (default: all of :data:`INVALID_CREATE_KINDS`).
    """
    chosen = INVALID_CREATE_KINDS if kinds is None else kinds
    unknown = set(chosen) - set(_INVALID_CASES)
    if unknown:
        raise ValueError(f"unknown invalid create kinds: {sorted(unknown)}")
    return st.one_of([_INVALID_CASES[kind] for kind in chosen])


def any_create_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Valid bodies and bodies broken in one or more fields (wrong types, values, missing)."""
    field_values = {
        "model": st.one_of(st.just(MODEL), st.text(max_size=15), _JSON),
        "video_url": st.one_of(video_urls(), st.text(max_size=30), _JSON),
        "timestamps": st.one_of(timestamps(), st.text(max_size=10), _JSON),
        "callback_url": st.one_of(st.text(max_size=30), _JSON),
    }
    broken = st.fixed_dictionaries({}, optional=field_values)
    return st.one_of(valid_create_bodies(), broken)


def raw_bodies() -> st.SearchStrategy[bytes]:
    """Request body bytes: JSON of any shape, valid bodies, and bytes that are not JSON."""
    return st.one_of(
        any_create_bodies().map(lambda b: json.dumps(b).encode()),
        _JSON.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=40),
    )


def tokens() -> st.SearchStrategy[str | None]:
    """Bearer tokens: well-formed ones, the demo tokens, malformed ones and none."""
    return st.one_of(
        st.from_regex(r"sk-[A-Za-z0-9]{8,20}", fullmatch=True),
        st.sampled_from(
            [
                "sk-demo-no-credits",
                "sk-demo-overdrawn",
                "sk-demo-no-access",
                "sk-demo-rate-limited",
                "sk-demo-broken",
            ]
        ),
        # Header values cannot carry control characters, so neither do these.
        st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs"]), max_size=10),
        st.none(),
    )


def create_requests() -> st.SearchStrategy[tuple[str | None, str, bytes]]:
    """``(token, content_type, body)`` triples for the create call, valid and not."""
    return st.tuples(
        tokens(),
        st.sampled_from([JSON_TYPE, "application/json; charset=utf-8", "text/plain"]),
        raw_bodies(),
    )


# -- task ids ------------------------------------------------------------------------------


def valid_task_ids() -> st.SearchStrategy[str]:
    """Ids of the documented shape ``task-unified-<unix seconds>-<8 of [a-z0-9]>``."""
    return st.builds(lambda t, s: f"{TASK_ID_PREFIX}{t}-{s}", _CREATED, _SUFFIX)


def unknown_task_ids() -> st.SearchStrategy[str]:
    """Well-formed ids no server has issued (404 ``task_not_found``).

    Random suffixes make a clash with a real task practically impossible, and the
    ``created`` part is in the past or far future, never "now".
    """
    return st.builds(
        lambda t, s: f"{TASK_ID_PREFIX}{t}-{s}",
        st.one_of(st.integers(1, 999_999_999), st.integers(3_000_000_000, 9_999_999_999)),
        _SUFFIX,
    )


def malformed_task_ids() -> st.SearchStrategy[str]:
    """Ids without the ``task-unified-`` prefix (400 ``invalid_task_id``).

    They stay path-safe: no ``/ ? # %``, no dot segments, printable ASCII, so an HTTP
    client sends them unchanged.
    """
    text = st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/?#%"),
        min_size=1,
        max_size=30,
    ).filter(lambda s: not s.startswith(TASK_ID_PREFIX) and s not in (".", ".."))
    near = st.sampled_from(
        ["task-1767917446-5lqy8zzv", "TASK-UNIFIED-1-abcdefgh", "unified-1-abcdefgh", "123"]
    )
    return st.one_of(near, text)


def task_ids() -> st.SearchStrategy[str]:
    """Task ids of every kind: documented shape, unknown and malformed."""
    return st.one_of(valid_task_ids(), unknown_task_ids(), malformed_task_ids())


@dataclass(frozen=True)
class TaskIdCase:
    """A task id the contract answers with an error, and that error."""

    kind: str  # "malformed" or "unknown"
    task_id: str
    status: int
    code: str
    param: str | None = None


def task_id_cases(
    kinds: tuple[str, ...] = ("malformed", "unknown"),
) -> st.SearchStrategy[TaskIdCase]:
    """Malformed ids (400 ``invalid_task_id``) and unknown ids (404 ``task_not_found``).

    Args:
        kinds: ``malformed``, ``unknown`` or both (the default).
    """
    cases = {
        "malformed": malformed_task_ids().map(
            lambda i: TaskIdCase("malformed", i, 400, "invalid_task_id", "task_id")
        ),
        "unknown": unknown_task_ids().map(
            lambda i: TaskIdCase("unknown", i, 404, "task_not_found")
        ),
    }
    if not kinds or set(kinds) - set(cases):
        raise ValueError(f"kinds must be among {sorted(cases)}, got {kinds!r}")
    return st.one_of([cases[kind] for kind in kinds])


# -- responses -----------------------------------------------------------------------------


def task_bodies(status: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Task bodies the spec accepts, in ``status`` (default: every state), for client tests.

    Optional fields (``video_duration``, ``user_group``, ``results``) are sometimes absent and
    unknown extra fields sometimes present, as the spec allows; ``result_data`` appears only on
    completed tasks and ``error`` only on failed ones.
    """
    from sora_mock.contract.openapi import Contract

    contract = Contract.bundled()
    statuses = contract.enum("TaskStatus")
    if status is not None and status not in statuses:
        raise ValueError(f"status must be one of {statuses}, got {status!r}")
    chosen = st.just(status) if status is not None else st.sampled_from(statuses)
    return chosen.flatmap(lambda s: _task_body(s, contract.enum("TaskFailureCode")))


def _task_body(status: str, failure_codes: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    progress = {
        "pending": st.just(0),
        "processing": st.integers(0, 99),
        "completed": st.just(100),
        "failed": st.integers(0, 99),
    }[status]
    ended = status in ("completed", "failed")
    task_info = st.fixed_dictionaries(
        {
            "can_cancel": st.just(False) if ended else st.booleans(),
            "estimated_time": st.integers(0, 3600),
        },
        optional={"video_duration": st.integers(0, 60)},
    )
    usage = st.fixed_dictionaries(
        {
            "billing_rule": st.sampled_from(["per_call", "per_token", "per_second"]),
            "credits_reserved": st.one_of(st.just(0.1), st.floats(0, 100, allow_nan=False)),
        },
        optional={"user_group": st.sampled_from(["vip", "default", "free"])},
    )
    fields: dict[str, st.SearchStrategy[Any]] = {
        "model": st.just(MODEL),
        "object": st.just("video.generation.task"),
        "progress": progress,
        "status": st.just(status),
        "task_info": task_info,
        "type": st.just("video"),
        "usage": usage,
    }
    optional: dict[str, st.SearchStrategy[Any]] = {}
    picture = st.builds(lambda h, n: f"https://{h}/{n}.png", _HOST, _SEGMENT)
    if status == "completed":
        fields["result_data"] = st.fixed_dictionaries(
            {
                "character_name": st.text(
                    _LOWER + _LOWER.upper() + _DIGITS, min_size=8, max_size=8
                ).map(lambda name: f"chr_{name}"),
                "profile_picture_url": picture,
            }
        )
        optional["results"] = st.lists(picture, min_size=1, max_size=2)
    elif status == "failed":
        fields["error"] = st.fixed_dictionaries(
            {
                "code": st.sampled_from(failure_codes),
                "message": st.text(min_size=1, max_size=40),
                "type": st.just("task_error"),
            }
        )
    known = {"created", "id", *fields, "results"}
    extras = st.dictionaries(
        st.text(_LOWER + "_", min_size=1, max_size=12).filter(lambda k: k not in known),
        _JSON,
        max_size=2,
    )

    def assemble(
        created: int, suffix: str, body: dict[str, Any], extra: dict[str, Any]
    ) -> dict[str, Any]:
        return {**extra, "created": created, "id": f"{TASK_ID_PREFIX}{created}-{suffix}", **body}

    return st.builds(
        assemble, _CREATED, _SUFFIX, st.fixed_dictionaries(fields, optional=optional), extras
    )


def error_envelopes(
    operation_id: str | None = None,
) -> st.SearchStrategy[tuple[int, dict[str, Any]]]:
    """``(status, body)`` pairs of documented error answers, with varied messages.

    Args:
        operation_id: ``createCharacterGeneration`` or ``getTaskDetail`` (default: both).
    """
    from sora_mock.contract.openapi import Contract

    contract = Contract.bundled()
    documented = [
        error
        for op in contract.operations
        if operation_id in (None, op.operation_id)
        for error in op.errors.values()
    ]
    if not documented:
        raise ValueError(f"no documented errors for operation {operation_id!r}")

    def envelope(error: Any, message: str, with_param: bool) -> tuple[int, dict[str, Any]]:
        param = error.param or ("video_url" if with_param and error.status == 400 else None)
        return error.status, error.envelope(message, param)

    return st.builds(
        envelope,
        st.sampled_from(documented),
        st.one_of(st.just(""), st.text(min_size=1, max_size=40)),
        st.booleans(),
    )
