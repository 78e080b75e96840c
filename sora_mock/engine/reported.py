"""The values a task reports, shared by every task of one model and scenario."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, eq=False)
class Reported:
    """A model's named values with the configuration's and a scenario's overrides applied,
    and how long a finished task is kept (mock seconds).

    Compared and hashed by content, so equal ones are stored once.
    """

    values: Mapping[str, Any]
    retention: float = 86400.0
    _key: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        key = json.dumps([self.values, self.retention], sort_keys=True, default=str)
        object.__setattr__(self, "_key", key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reported) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)
