"""Several OpenAPI documents merged into one, models selected by the request body.

The first document is the base. Each later one adds its paths and components:

- a component with a name already taken by different content is renamed (``Name`` becomes
  ``Name_<model>``) and every ``$ref`` of its document follows; identical ones are shared;
- an operation on a method and path no earlier document defines is added as it is;
- the create operation (``x-sora-mock`` role ``create-task``) defined by several documents
  becomes one operation whose request body and 200 answer are chosen by the body's model
  field: ``allOf: [{if: {properties: {model: {enum: [...]}}}, then: <that model's schema>}]``,
  and whose model field is limited to the models of every document;
- any other operation defined twice keeps the first document's definition; the statuses
  only a later document answers join its responses (the first document's win where both
  answer).

The result is itself a valid input: :class:`~sora_mock.contract.task_api.TaskAPI` reads the
``if``/``then`` branches back as models.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sora_mock.contract.extension import HTTP_METHODS, KEY

_COMPONENT_REF = re.compile(r"^#/components/([^/]+)/([^/]+)(.*)$")


@dataclass(frozen=True)
class SourceDocument:
    """A parsed document and where it came from."""

    data: Mapping[str, Any]
    source: str


@dataclass(frozen=True)
class _Variant:
    """One document's part of a merged create operation."""

    models: tuple[str, ...]
    request: Any
    answer: Any
    request_examples: Mapping[str, Any]
    answer_examples: Mapping[str, Any]


def merge_documents(documents: Sequence[SourceDocument]) -> dict[str, Any]:
    """The documents merged (the first one unchanged when it is alone)."""
    merged: dict[str, Any] = copy.deepcopy(dict(documents[0].data))
    variants = {key: [variant] for key, variant in _create_variants(merged).items()}
    for document in documents[1:]:
        data = _renamed(copy.deepcopy(dict(document.data)), merged)
        for section, named in (data.get("components") or {}).items():
            target = merged.setdefault("components", {}).setdefault(section, {})
            for name, value in named.items():
                target.setdefault(name, value)
        new = _create_variants(data)
        for path, item in (data.get("paths") or {}).items():
            into = merged.setdefault("paths", {}).setdefault(path, {})
            for method, operation in item.items():
                if method not in into:
                    into[method] = operation
                    continue
                _add_answers(into[method], operation)
                if (path, method) in new and (path, method) in variants:
                    variants[(path, method)].append(new[(path, method)])
        for tag in data.get("tags") or ():
            if tag not in merged.setdefault("tags", []):
                merged["tags"].append(tag)
    for (path, method), parts in variants.items():
        if len(parts) > 1:
            _select_by_model(merged["paths"][path][method], parts)
            for read in _operations_with_role(merged, "read-task"):
                _select_answer_by_model(read, merged["paths"][path][method])
    return merged


def _add_answers(operation: dict[str, Any], other: Mapping[str, Any]) -> None:
    """Statuses only a later document answers join the operation's responses."""
    if not isinstance(operation, dict) or not isinstance(other, Mapping):
        return
    responses = dict(operation.get("responses") or {})
    for status, answer in (other.get("responses") or {}).items():
        responses.setdefault(status, answer)
    operation["responses"] = dict(sorted(responses.items()))


def _operations_with_role(document: Mapping[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        operation
        for item in (document.get("paths") or {}).values()
        for operation in item.values()
        if isinstance(operation, dict)
        and isinstance(operation.get(KEY), Mapping)
        and operation[KEY].get("role") == role
    ]


def _create_variants(document: Mapping[str, Any]) -> dict[tuple[str, str], _Variant]:
    found = {}
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            extension = operation.get(KEY) if isinstance(operation, Mapping) else None
            if not isinstance(extension, Mapping) or extension.get("role") != "create-task":
                continue
            body = _follow(operation.get("requestBody"), document)
            created = _follow((operation.get("responses") or {}).get("200"), document)
            request = _json_schema(body, document)
            models = _models(request, document, extension.get("model-field"))
            found[(path, method)] = _Variant(
                models,
                request,
                _json_schema(created, document),
                _examples(body, document),
                _examples(created, document),
            )
    return found


def _select_by_model(operation: dict[str, Any], parts: list[_Variant]) -> None:
    field = operation[KEY]["model-field"]
    every = [name for part in parts for name in part.models]

    def chain(kind: str) -> dict[str, Any]:
        return {
            "allOf": [
                {
                    "if": {"properties": {field: {"enum": list(part.models)}}, "required": [field]},
                    "then": getattr(part, kind),
                }
                for part in parts
                if getattr(part, kind) is not None
            ],
        }

    request = chain("request")
    request.update(
        type="object", required=[field], properties={field: {"type": "string", "enum": every}}
    )
    media = _media(operation["requestBody"])
    media["schema"] = request
    media["examples"] = _joined(part.request_examples for part in parts)
    answer = operation.get("responses", {}).get("200")
    if isinstance(answer, Mapping) and "$ref" not in answer and "content" in answer:
        media = _media(answer)
        media["schema"] = chain("answer")
        media["examples"] = _joined(part.answer_examples for part in parts)


def _examples(holder: Any, document: Mapping[str, Any]) -> Mapping[str, Any]:
    media = (holder or {}).get("content", {}).get("application/json") or {}
    examples: Mapping[str, Any] = media.get("examples") or {}
    return examples


def _joined(groups: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    joined: dict[str, Any] = {}
    for group in groups:
        for name, example in group.items():
            joined[_free(name, set(joined))] = example
    return joined


def _select_answer_by_model(read: dict[str, Any], create: Mapping[str, Any]) -> None:
    """The read operation answers with the task schema of the task's model (as its create
    operation's 200 answer describes it)."""
    answer = read.get("responses", {}).get("200")
    created = create.get("responses", {}).get("200")
    if isinstance(answer, dict) and "$ref" not in answer and "content" in answer:
        _media(answer)["schema"] = _media(created)["schema"]


def _media(holder: Mapping[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = holder["content"]["application/json"]
    return media


def _json_schema(holder: Any, document: Mapping[str, Any]) -> Any:
    if not isinstance(holder, Mapping):
        return None
    return (holder.get("content") or {}).get("application/json", {}).get("schema")


def _models(schema: Any, document: Mapping[str, Any], field: Any) -> tuple[str, ...]:
    resolved = _follow(schema, document)
    if not isinstance(resolved, Mapping) or not isinstance(field, str):
        return ()
    prop = _follow((resolved.get("properties") or {}).get(field), document)
    if not isinstance(prop, Mapping):
        return ()
    if "const" in prop:
        return (str(prop["const"]),)
    return tuple(str(v) for v in prop.get("enum", ()))


def _follow(node: Any, document: Mapping[str, Any]) -> Any:
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        found = _COMPONENT_REF.match(node["$ref"])
        if found is None or found.group(3):
            return None
        node = ((document.get("components") or {}).get(found.group(1)) or {}).get(found.group(2))
    return node


def _renamed(document: dict[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with its components renamed where ``base`` holds other content."""
    own = document.get("components") or {}
    theirs = base.get("components") or {}
    suffix = _suffix(document)
    renames: dict[tuple[str, str], str] = {}
    changed = True
    while changed:  # a component that refers to a renamed one differs too
        changed = False
        for section, named in own.items():
            if section == "securitySchemes":  # named by security requirements, not $ref
                continue
            for name, value in named.items():
                if (section, name) in renames or name not in (theirs.get(section) or {}):
                    continue
                if value != theirs[section][name] or _refers_to(value, renames):
                    taken = set(theirs.get(section) or {}) | set(named)
                    renames[(section, name)] = _free(f"{name}_{suffix}", taken)
                    changed = True
    if not renames:
        return document
    rewritten: dict[str, Any] = _rewrite_refs(document, renames)
    for (section, name), new in renames.items():
        rewritten["components"][section][new] = rewritten["components"][section].pop(name)
    return rewritten


def _suffix(document: Mapping[str, Any]) -> str:
    models = [name for variant in _create_variants(document).values() for name in variant.models]
    title = models[0] if models else str((document.get("info") or {}).get("title", "doc"))
    return re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_") or "doc"


def _free(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    return candidate


def _refers_to(node: Any, renames: Mapping[tuple[str, str], str]) -> bool:
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found = _COMPONENT_REF.match(ref)
            if found is not None and (found.group(1), found.group(2)) in renames:
                return True
        return any(_refers_to(value, renames) for value in node.values())
    if isinstance(node, list):
        return any(_refers_to(item, renames) for item in node)
    return False


def _rewrite_refs(node: Any, renames: Mapping[tuple[str, str], str]) -> Any:
    if isinstance(node, Mapping):
        result = {key: _rewrite_refs(value, renames) for key, value in node.items()}
        ref = result.get("$ref")
        if isinstance(ref, str):
            found = _COMPONENT_REF.match(ref)
            if found is not None and (found.group(1), found.group(2)) in renames:
                new = renames[(found.group(1), found.group(2))]
                result["$ref"] = f"#/components/{found.group(1)}/{new}{found.group(3)}"
        return result
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node
