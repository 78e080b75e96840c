"""Shared patches: applied for the first user, undone after the last, whatever the order."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

from sora_mock.inprocess._patching import Registry, SharedPatch


def original() -> str:
    return "original"


def ours() -> str:
    return "ours"


def theirs() -> str:
    return "theirs"


def test_the_last_user_out_restores_whatever_the_order() -> None:
    target = SimpleNamespace(f=original)
    patch = SharedPatch({"f": (target, "f", ours)})
    patch.acquire()
    patch.acquire()
    assert target.f is ours
    patch.release()
    assert target.f is ours  # one user is still in
    patch.release()
    assert target.f is original
    assert patch.real["f"] is original  # kept, for replacements bound while active


def test_a_patch_on_top_of_ours_is_left_alone_and_ours_returns_to_the_original() -> None:
    target = SimpleNamespace(f=original)
    patch = SharedPatch({"f": (target, "f", ours)})
    other = mock.patch.object(target, "f", theirs)
    with patch.applied():
        other.start()
    assert target.f is theirs  # not clobbered by our restore
    other.stop()  # puts ours back, which now stands alone
    assert target.f is ours
    with patch.applied():
        assert target.f is ours
    assert target.f is original  # the original was remembered, not ours


def test_a_registry_keeps_its_entries_oldest_first_and_drops_each_in_any_order() -> None:
    registry: Registry[str] = Registry()
    first, second = registry.added("first"), registry.added("second")
    assert first.__enter__() == "first"
    second.__enter__()
    assert list(registry.entries) == ["first", "second"]
    first.__exit__(None, None, None)
    assert list(registry.entries) == ["second"]
    second.__exit__(None, None, None)
    assert list(registry.entries) == []
