"""Validation: the server's compiled validator (jsonschema-rs) against openapi-core.

Both validate the same create requests (valid and invalid ones). The compiled path is
measured as the server runs it (parse the JSON body, then the compiled schema), and the
schema check alone; openapi-core validates the whole request (path, security, body).
"""

from __future__ import annotations

import json
from typing import Any

from bench.common import interleaved, log, ratio, summary_us
from sora_mock.contract.messages import Request
from sora_mock.contract.openapi import Contract
from sora_mock.contract.validation import iter_request_errors

HEADERS = {"authorization": "Bearer sk-bench-0123456789", "content-type": "application/json"}
BODIES: list[dict[str, Any]] = [
    {"model": "sora-character", "video_url": "https://example.com/video.mp4", "timestamps": "1,3"},
    {"model": "sora-character", "video_url": "https://example.com/clip.webm"},
    {"model": "sora-character"},
    {"model": "sora-2", "video_url": "https://example.com/video.mp4"},
    {"model": "sora-character", "video_url": 42, "timestamps": "a,b"},
    {"model": "sora-character", "video_url": "https://example.com/v.mov", "extra": True},
]


def measure(rounds: int = 9) -> dict[str, Any]:
    """Median microseconds per request of each validator, and openapi-core's ratio."""
    contract = Contract.bundled()
    validator = contract.request_validators[contract.tasks.create.operation_id]
    requests = [
        Request.build(
            "POST", "/v1/videos/generations", headers=HEADERS, body=json.dumps(b).encode()
        )
        for b in BODIES
    ]
    bodies = [json.loads(r.body) for r in requests]
    verdicts = [
        (not list(validator.iter_errors(body)), not list(iter_request_errors(r, contract)))
        for body, r in zip(bodies, requests, strict=True)
    ]

    def compiled_schema_only() -> None:
        for body in bodies:
            list(validator.iter_errors(body))

    def compiled_with_parse() -> None:
        for request in requests:
            list(validator.iter_errors(json.loads(request.body)))

    def openapi_core() -> None:
        for request in requests:
            list(iter_request_errors(request, contract))

    log("validation: compiled schema against openapi-core")
    samples = interleaved(
        {
            "compiled_schema_only": compiled_schema_only,
            "compiled_with_json_parse": compiled_with_parse,
            "openapi_core": openapi_core,
        },
        calls=20,
        rounds=rounds,
    )
    per_request = {
        name: {k: v / len(requests) if k != "rounds" else v for k, v in summary_us(s).items()}
        for name, s in samples.items()
    }
    return {
        "requests_per_call": len(requests),
        "per_request": per_request,
        "verdicts_agree": all(a == b for a, b in verdicts),
        "openapi_core_vs_compiled_with_parse": ratio(
            per_request["openapi_core"]["median_us"],
            per_request["compiled_with_json_parse"]["median_us"],
        ),
        "openapi_core_vs_compiled_schema_only": ratio(
            per_request["openapi_core"]["median_us"],
            per_request["compiled_schema_only"]["median_us"],
        ),
    }
