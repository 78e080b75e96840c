"""A made-up task API, written to a YAML file: the bundled character spec with every vendor
name replaced, so a test shows the mock, the checker and the harness follow the document,
not the vendor.

:func:`write_made_up_api` renames everything (paths, operation ids, the id parameter and
shape, the model, its request and result fields): another API. :func:`write_made_up_model`
renames only the model and its fields, so the document merges with the bundled ones (one
create and one read operation) as a third model of the same API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sora_mock.contract import spec_path

MODEL = "acme-sketch"
#: The file both writers write, in the folder they are given.
FILE_NAME = f"{MODEL}.yaml"
CREATE_PATH = "/v2/sketches"
READ_PATH = "/v2/jobs/{job_id}"
CREATE_OPERATION = "createSketch"
READ_OPERATION = "getJob"
ID_PREFIX = "job-"
#: The request fields: the video URL and the span of it.
URL_FIELD = "photo_url"
SPAN_FIELD = "frames"
#: The made-up model's result: the fields a completed task adds, and the generated name
#: inside the first (``lbl_`` and six letters).
RESULT_FIELDS = ("outcome", "artifacts")
NAME_FIELD = "label"
#: The made-up model's documented request example.
BODY: dict[str, Any] = {
    "model": MODEL,
    URL_FIELD: "https://example.com/video.mp4",
    SPAN_FIELD: "1,3",
}

#: Names of the bundled model and what the made-up one calls them.
MODEL_RENAMES = (
    ("sora-character", MODEL),
    ("profile_picture_url", "preview_url"),
    ("character_name", NAME_FIELD),
    ("chr_{letters:8}", "lbl_{letters:6}"),
    ("result_data", RESULT_FIELDS[0]),
    ("results", RESULT_FIELDS[1]),
    ("video_url", URL_FIELD),
    ("timestamps", SPAN_FIELD),
)
#: Names of the bundled API and what the made-up one calls them, replaced before the
#: model's (a path holds the id parameter's name).
API_RENAMES = (
    ("createCharacterGeneration", CREATE_OPERATION),
    ("getTaskDetail", READ_OPERATION),
    ("/v1/videos/generations", CREATE_PATH),
    ("/v1/tasks/{task_id}", READ_PATH),
    ("task_id", "job_id"),
    ("task-unified-", ID_PREFIX),
)


def write_made_up_api(folder: Path) -> Path:
    """Write the made-up API (every name replaced) into ``folder``; return its path."""
    return _write(folder, (*API_RENAMES, *MODEL_RENAMES))


def write_made_up_model(folder: Path) -> Path:
    """Write the made-up model of the bundled API (its model and field names replaced, the
    paths, operations and ids kept) into ``folder``; return its path."""
    return _write(folder, MODEL_RENAMES)


def _write(folder: Path, renames: tuple[tuple[str, str], ...]) -> Path:
    document = yaml.safe_load(spec_path().read_text(encoding="utf-8"))
    document["info"]["title"] = "A made-up sketch API"
    path = folder / FILE_NAME
    text = yaml.safe_dump(_renamed(document, renames), sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def _renamed(node: Any, renames: tuple[tuple[str, str], ...]) -> Any:
    """``node`` (a loaded YAML value) with every name of ``renames`` replaced, in keys and
    in text."""
    if isinstance(node, dict):
        return {_renamed(key, renames): _renamed(value, renames) for key, value in node.items()}
    if isinstance(node, list):
        return [_renamed(item, renames) for item in node]
    if isinstance(node, str):
        for old, new in renames:
            node = node.replace(old, new)
    return node
