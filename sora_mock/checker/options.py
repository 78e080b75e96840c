"""The tokens a check sends: one definition for the command line and the contract suite."""

from __future__ import annotations

import os
from collections.abc import Callable


def add_token_options(add: Callable[..., object], prefix: str = "--") -> None:
    """Add ``{prefix}token`` and ``{prefix}other-token`` through ``add``: argparse's
    ``add_argument`` (``sora-mock check``) or pytest's ``addoption`` (``contract_tests/``,
    with the prefix ``--sora-contract-``). Their defaults are ``$SORA_TOKEN`` and
    ``$SORA_OTHER_TOKEN``."""
    add(
        f"{prefix}token",
        default=os.environ.get("SORA_TOKEN"),
        help="bearer token to send with every request (default: $SORA_TOKEN)",
    )
    add(
        f"{prefix}other-token",
        default=os.environ.get("SORA_OTHER_TOKEN"),
        help="a second account's token, to check task isolation (default: $SORA_OTHER_TOKEN)",
    )
