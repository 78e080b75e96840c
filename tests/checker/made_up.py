"""A made-up task API, written to a temporary YAML file: the bundled character spec with
every vendor name replaced (paths, operation ids, id shape, model, request and result
fields), so a test shows the mock and the checker follow the document, not the vendor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sora_mock.contract import spec_path

MODEL = "acme-sketch"
CREATE_PATH = "/v2/sketches"
#: Names of the bundled document and what the made-up one calls them, longest first where
#: one contains another.
RENAMES = (
    ("createCharacterGeneration", "createSketch"),
    ("getTaskDetail", "getJob"),
    ("/v1/videos/generations", CREATE_PATH),
    ("/v1/tasks/{task_id}", "/v2/jobs/{job_id}"),
    ("task_id", "job_id"),
    ("task-unified-", "job-"),
    ("sora-character", MODEL),
    ("profile_picture_url", "preview_url"),
    ("character_name", "label"),
    ("chr_{letters:8}", "lbl_{letters:6}"),
    ("result_data", "outcome"),
    ("results", "artifacts"),
    ("video_url", "photo_url"),
    ("timestamps", "frames"),
)
#: The made-up model's result: the fields a completed task adds.
RESULT_FIELDS = ("outcome", "artifacts")


def renamed(node: Any) -> Any:
    """``node`` (a loaded YAML value) with every name of :data:`RENAMES` replaced, in keys
    and in text."""
    if isinstance(node, dict):
        return {renamed(key): renamed(value) for key, value in node.items()}
    if isinstance(node, list):
        return [renamed(item) for item in node]
    if isinstance(node, str):
        for old, new in RENAMES:
            node = node.replace(old, new)
    return node


def write_made_up_spec(folder: Path) -> Path:
    """Write the made-up spec into ``folder``; return its path."""
    document = yaml.safe_load(spec_path().read_text(encoding="utf-8"))
    document["info"]["title"] = "A made-up sketch API"
    path = folder / "acme-sketch.yaml"
    path.write_text(yaml.safe_dump(renamed(document), sort_keys=False), encoding="utf-8")
    return path
