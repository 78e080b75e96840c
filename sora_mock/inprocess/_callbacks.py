"""Callback delivery in-process: every callback due now, with a synchronous httpx client.

The URL passed the create rule (no private address in any spelling, port 443 unless
allowed); names are not resolved here, because the test's own routes (respx) receive
callbacks by name. The server's dispatcher resolves and checks every address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sora_mock.engine import TIMEOUT_SECONDS, Engine

if TYPE_CHECKING:
    import httpx


def deliver_due(engine: Engine, client: httpx.Client) -> int:
    """Deliver every callback due now with a synchronous client; return how many were tried."""
    deliveries = engine.callbacks_due()
    for delivery in deliveries:
        status, error = None, None
        try:
            response = client.post(
                delivery.url,
                content=delivery.body,
                headers={"content-type": "application/json"},
                timeout=TIMEOUT_SECONDS,
            )
            status = response.status_code
        except Exception as exc:  # any failure to deliver is recorded and retried
            error = f"{type(exc).__name__}: {exc}"
        engine.callback_done(delivery, status, error)
    return len(deliveries)
