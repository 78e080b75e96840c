"""Hypothesis strategies for sora-character requests, derived from the contract's rules.

Example::

    from hypothesis import given
    from sora_mock import strategies

    @given(strategies.valid_create_bodies())
    def test_my_client_accepts(body): ...
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from sora_mock.rules import VIDEO_EXTENSIONS

__all__ = [
    "any_create_bodies",
    "create_requests",
    "raw_bodies",
    "task_ids",
    "timestamps",
    "tokens",
    "valid_create_bodies",
    "video_urls",
]

_HOST = st.from_regex(r"[a-z][a-z0-9]{0,10}(\.[a-z]{2,6}){1,2}", fullmatch=True)
_SEGMENT = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)


def video_urls() -> st.SearchStrategy[str]:
    """Valid video URLs: http(s), any of the three extensions in any case, maybe a query."""
    extension = st.sampled_from(VIDEO_EXTENSIONS).flatmap(
        lambda ext: st.sampled_from([ext, ext.upper(), ext.capitalize()])
    )
    query = st.one_of(st.just(""), _SEGMENT.map(lambda q: f"?sig={q}"))
    return st.builds(
        lambda scheme, host, dirs, name, ext, q: (
            f"{scheme}://{host}/{''.join(d + '/' for d in dirs)}{name}{ext}{q}"
        ),
        st.sampled_from(["http", "https"]),
        _HOST,
        st.lists(_SEGMENT, max_size=3),
        _SEGMENT,
        extension,
        query,
    )


def timestamps() -> st.SearchStrategy[str]:
    """Valid ``start,end`` values: non-negative, ``0 < end - start <= 2``."""

    def form(start: float, span: float, decimals: bool, spaced: bool) -> str:
        end = start + span
        text = (f"{start:.1f}", f"{end:.1f}") if decimals else (f"{start:g}", f"{end:g}")
        return (", " if spaced else ",").join(text)

    whole = st.tuples(st.integers(0, 3600), st.integers(1, 2)).map(
        lambda t: f"{t[0]},{t[0] + t[1]}"
    )
    tenths = st.builds(
        form,
        st.integers(0, 36000).map(lambda n: n / 10),
        st.integers(1, 20).map(lambda n: n / 10),
        st.just(True),
        st.booleans(),
    )
    return st.one_of(whole, tenths)


def valid_create_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Create bodies the contract accepts, with and without ``timestamps`` and extra fields."""
    return st.fixed_dictionaries(
        {"model": st.just("sora-character"), "video_url": video_urls()},
        optional={
            "timestamps": timestamps(),
            "note": st.text(max_size=20),
            "seed": st.integers(),
        },
    )


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def any_create_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Valid bodies and bodies broken in one or more fields (wrong types, values, missing)."""
    field_values = {
        "model": st.one_of(st.just("sora-character"), st.text(max_size=15), _JSON),
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


def task_ids() -> st.SearchStrategy[str]:
    """Task ids of the documented shape, and malformed ones."""
    valid = st.builds(
        lambda t, s: f"task-unified-{t}-{s}",
        st.integers(1_000_000_000, 2_000_000_000),
        st.from_regex(r"[a-z0-9]{8}", fullmatch=True),
    )
    malformed = st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#%"),
        min_size=1,
        max_size=30,
    )
    return st.one_of(valid, malformed, st.just("task-unified-"))


def create_requests() -> st.SearchStrategy[tuple[str | None, str, bytes]]:
    """``(token, content_type, body)`` triples for the create call, valid and not."""
    return st.tuples(
        tokens(),
        st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain"]),
        raw_bodies(),
    )
