"""The OpenAPI contract: loaded and checked once, then compiled for fast use.

A :class:`Contract` knows the operations and how to route to them, the documented error
of every (operation, status) pair, and holds compiled JSON Schema validators
(``jsonschema-rs``) for request bodies and responses. The reference validator
(openapi-core) is built from the same document on first use.

The documents it is loaded from may be several (:meth:`Contract.load`): they are merged
(:mod:`sora_mock.contract.merge`), and their ``x-sora-mock`` extension describes the task
API the mock serves (:attr:`Contract.tasks`).

Example::

    contract = Contract.bundled()
    match = contract.match("GET", "/v1/tasks/task-unified-1-abcdefgh")
    match.operation is contract.tasks.read  # True
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from sora_mock.contract.extension import KEY, extension_problems
from sora_mock.contract.merge import SourceDocument, merge_documents
from sora_mock.contract.resources import spec_paths
from sora_mock.contract.task_api import CREATE_ROLE, READ_ROLE, TaskAPI, TaskApiError
from sora_mock.contract.yaml_source import YamlDocument
from sora_mock.errors import SpecError

if TYPE_CHECKING:
    from openapi_core import OpenAPI

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: The spec name that stands for the bundled documents (``--spec bundled``).
BUNDLED = "bundled"


@dataclass(frozen=True)
class DocumentedError:
    """The envelope the contract documents for one status of one operation."""

    status: int
    code: str
    message: str
    type: str
    param: str | None = None

    def envelope(self, message: str | None = None, param: str | None = None) -> dict[str, Any]:
        """The ``{"error": {...}}`` body, with an optional specific message and param."""
        error: dict[str, Any] = {
            "code": self.code,
            "message": message or self.message,
            "type": self.type,
        }
        if param or self.param:
            error["param"] = param or self.param
        return {"error": error}


@dataclass(frozen=True)
class Operation:
    """One operation of the contract, with its compiled path pattern."""

    method: str
    path: str
    operation_id: str
    pattern: re.Pattern[str]
    errors: Mapping[int, DocumentedError]
    statuses: tuple[int, ...]
    has_body: bool

    def error(self, status: int) -> DocumentedError:
        """The documented error for ``status``; for a status the operation does not document
        (a spec may leave out one the mock needs, such as 413), the same envelope with the
        HTTP reason as code and message."""
        documented = self.errors.get(status)
        if documented is not None:
            return documented
        reason = HTTPStatus(status).phrase
        return DocumentedError(status, reason.lower().replace(" ", "_"), reason, "api_error")


@dataclass(frozen=True)
class RouteMatch:
    """Result of routing: a full match, a path known under other methods, or nothing."""

    operation: Operation | None = None
    path_params: Mapping[str, str] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        """True when method and path both matched."""
        return self.operation is not None


class Contract:
    """A loaded, checked and compiled OpenAPI 3.1 document; ``source`` names its file, or
    ``sources`` the files it was merged from."""

    def __init__(
        self, document: Mapping[str, Any], source: str = "<spec>", *, sources: tuple[str, ...] = ()
    ) -> None:
        self.document = document
        #: The files the document was read from, in merge order (``bundled`` expanded).
        self.sources = sources or (source,)
        #: The files as one name: ``a.yaml + b.yaml``.
        self.source = " + ".join(self.sources)
        self.operations = tuple(self._operations())
        self._by_id = {op.operation_id: op for op in self.operations}
        self._by_place = {(op.path, op.method.lower()): op for op in self.operations}

    @classmethod
    def load(cls, paths: Iterable[str | Path]) -> Contract:
        """The task API contract of one or more OpenAPI files, merged; ``bundled`` names the
        shipped documents. A broken file raises SpecError with its file, line and column."""
        sources = [SourceDocument(doc.data, doc.source) for doc in _read(paths)]
        if not sources:
            raise SpecError("no OpenAPI document given")
        document = merge_documents(sources)
        contract = cls(document, sources=tuple(s.source for s in sources))
        try:
            contract.tasks  # noqa: B018  (built now, so a bad extension fails the load)
        except TaskApiError as exc:
            path = exc.problem.path
            where = "/".join(str(p) for p in path)
            raise SpecError(f"{where}: {exc.problem.message}", source=contract.source) from None
        return contract

    @classmethod
    def from_path(cls, path: str | Path) -> Contract:
        """Load, check and compile the OpenAPI file at ``path``; a broken one raises SpecError.

        Unlike :meth:`load`, the document need not describe a task API."""
        (doc,) = _read([path])
        return cls(doc.data, str(path))

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], source: str = "<spec>") -> Contract:
        """Check and compile an already parsed OpenAPI document."""
        doc = YamlDocument(data=document, source=source, root=None)
        _check_spec(doc)
        _check_extension(doc)
        return cls(document, source)

    @classmethod
    def bundled(cls) -> Contract:
        """The contract of the models shipped with sora-mock (loaded once per process)."""
        return _bundled()

    @cached_property
    def tasks(self) -> TaskAPI:
        """The task API the ``x-sora-mock`` extension describes (TaskApiError if none)."""
        return TaskAPI.from_contract(self)

    def operation(self, operation_id: str) -> Operation:
        """The operation with this ``operationId``."""
        return self._by_id[operation_id]

    def operation_at(self, path: str, method: str) -> Operation:
        """The operation on ``path`` with ``method`` (either case)."""
        return self._by_place[(path, method.lower())]

    def raw_operation(self, op: Operation) -> Mapping[str, Any]:
        """The operation's object in the document."""
        operation: Mapping[str, Any] = self.document["paths"][op.path][op.method.lower()]
        return operation

    def parameter_validator(self, op: Operation, name: str) -> jsonschema_rs.Validator:
        """A compiled validator of the path parameter ``name`` of ``op`` (any string when
        the parameter has no schema)."""
        for parameter in self.raw_operation(op).get("parameters") or ():
            parameter = self.resolve(parameter)
            if parameter.get("name") == name and parameter.get("in") == "path":
                return self.schema_validator(parameter.get("schema") or {"type": "string"})
        return self.schema_validator({"type": "string"})

    def as_yaml(self) -> bytes:
        """The document as YAML text (what ``GET /__mock/spec`` serves)."""
        return _as_yaml(self.document)

    def request_examples(self) -> Iterator[Any]:
        """Every documented request body example value, in document order."""
        for op in self.operations:
            body = self.resolve(self.raw_operation(op).get("requestBody") or {})
            media = (body.get("content") or {}).get("application/json") or {}
            if "example" in media:
                yield media["example"]
            for example in (media.get("examples") or {}).values():
                yield self.resolve(example).get("value")

    def match(self, method: str, path: str) -> RouteMatch:
        """Route ``method`` and ``path``: full, partial (405 with ``allowed``) or none (404)."""
        method = method.upper()
        allowed: list[str] = []
        for op in self.operations:
            found = op.pattern.fullmatch(path)
            if found is None:
                continue
            if op.method == method:
                return RouteMatch(op, found.groupdict())
            allowed.append(op.method)
        return RouteMatch(allowed=tuple(allowed))

    def resolve(self, node: Any) -> Any:
        """Follow a local ``$ref`` (repeatedly) to the node it names."""
        while isinstance(node, Mapping) and "$ref" in node:
            node = self.pointer(node["$ref"])
        return node

    def pointer(self, ref: str) -> Any:
        """The node a local JSON pointer such as ``#/components/schemas/X`` names."""
        if not ref.startswith("#/"):
            raise SpecError(f"only local references are supported, got {ref!r}", source=self.source)
        node: Any = self.document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def schema_validator(self, schema: Mapping[str, Any]) -> jsonschema_rs.Validator:
        """A compiled validator for ``schema``, with this document's components in scope."""
        root = {"allOf": [schema], "components": self.document.get("components", {})}
        return jsonschema_rs.validator_for(root, validate_formats=True)

    @cached_property
    def request_validators(self) -> Mapping[str, jsonschema_rs.Validator]:
        """Compiled request-body validators by ``operationId`` (operations with a body)."""
        validators = {}
        for op in self.operations:
            schema = self._request_schema(op)
            if schema is not None:
                validators[op.operation_id] = self.schema_validator(schema)
        return validators

    @cached_property
    def response_validators(self) -> Mapping[tuple[str, int], jsonschema_rs.Validator]:
        """Compiled response-body validators by ``(operationId, status)``."""
        validators = {}
        for op in self.operations:
            for status in op.statuses:
                schema = self.response_schema(op.operation_id, status)
                if schema is not None:
                    validators[(op.operation_id, status)] = self.schema_validator(schema)
        return validators

    def response_schema(self, operation_id: str, status: int) -> Mapping[str, Any] | None:
        """The JSON schema of the documented response body, if the response has one."""
        op = self.operation(operation_id)
        response = self.resolve(self.raw_operation(op)["responses"][str(status)])
        media = response.get("content", {}).get("application/json")
        return None if media is None else media.get("schema")

    def response_headers(self, operation_id: str, status: int) -> Mapping[str, Any]:
        """The documented headers of a response, each resolved."""
        op = self.operation(operation_id)
        response = self.resolve(self.raw_operation(op)["responses"][str(status)])
        return {name: self.resolve(h) for name, h in response.get("headers", {}).items()}

    def named_example(self, operation_id: str, name: str) -> tuple[int, Any] | None:
        """``(status, value)`` of the response example called ``name``, if documented."""
        for status, media in self._response_media(operation_id):
            example = media.get("examples", {}).get(name)
            if example is not None:
                return status, self.resolve(example).get("value")
        return None

    def example_names(self, operation_id: str) -> list[str]:
        """Names of the named response examples of an operation."""
        return [
            n for _, media in self._response_media(operation_id) for n in media.get("examples", {})
        ]

    def _response_media(self, operation_id: str) -> list[tuple[int, Mapping[str, Any]]]:
        op = self.operation(operation_id)
        found = []
        for status, response in self.raw_operation(op)["responses"].items():
            media = self.resolve(response).get("content", {}).get("application/json")
            if media is not None and status.isdigit():
                found.append((int(status), media))
        return found

    def enum(self, schema_name: str) -> tuple[str, ...]:
        """The ``enum`` of a named component schema, e.g. ``TaskFailureCode``."""
        return tuple(self.document["components"]["schemas"][schema_name]["enum"])

    @cached_property
    def openapi(self) -> OpenAPI:
        """The openapi-core object for reference validation (built on first use; ~1 s)."""
        from jsonschema_path import SchemaPath
        from openapi_core import OpenAPI

        return OpenAPI(SchemaPath.from_dict(dict(self.document)))

    def _request_schema(self, op: Operation) -> Mapping[str, Any] | None:
        body = self.resolve(self.raw_operation(op).get("requestBody"))
        if not body:
            return None
        media = body.get("content", {}).get("application/json")
        return None if media is None else media.get("schema")

    def _operations(self) -> list[Operation]:
        operations = []
        for path, item in self.document.get("paths", {}).items():
            for method in HTTP_METHODS:
                raw = item.get(method)
                if raw is None:
                    continue
                statuses = tuple(int(s) for s in raw.get("responses", {}) if s.isdigit())
                operations.append(
                    Operation(
                        method=method.upper(),
                        path=path,
                        operation_id=raw.get("operationId", f"{method} {path}"),
                        pattern=_path_pattern(path),
                        errors=self._documented_errors(raw),
                        statuses=statuses,
                        has_body="requestBody" in raw,
                    )
                )
        return operations

    def _documented_errors(self, raw: Mapping[str, Any]) -> dict[int, DocumentedError]:
        errors = {}
        for status, response in raw.get("responses", {}).items():
            if not status.isdigit() or int(status) < 400:
                continue
            media = self.resolve(response).get("content", {}).get("application/json")
            if media is None:
                continue  # not a JSON error (e.g. an expired link's XML): no envelope to catalogue
            example = media.get("example")
            if example is None and media.get("examples"):
                example = next(iter(media["examples"].values())).get("value")
            if not isinstance(example, Mapping) or "error" not in example:
                raise SpecError(f"response {status} documents no error example", source=self.source)
            err = example["error"]
            errors[int(status)] = DocumentedError(
                status=int(status),
                code=err["code"],
                message=err["message"],
                type=err["type"],
                param=err.get("param"),
            )
        return errors


def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{([^}]+)\}", template)
    regex = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
    )
    return re.compile(regex)


def _check_spec(doc: YamlDocument) -> None:
    if not isinstance(doc.data, Mapping):
        raise SpecError("an OpenAPI document must be a mapping", source=doc.source)
    stamp = _verdict_stamp(doc.data)
    if stamp is not None and stamp.exists():
        return
    from openapi_spec_validator import OpenAPIV31SpecValidator

    validator = OpenAPIV31SpecValidator(dict(doc.data))
    for error in validator.iter_errors():
        path = list(getattr(error, "absolute_path", [])) or _path_of(error)
        where = "/".join(str(p) for p in path) or "(document)"
        line, column = doc.locate(path)
        raise SpecError(
            f"not a valid OpenAPI 3.1 document at {where}: {error.message}",
            source=doc.source,
            line=line,
            column=column,
        )
    if stamp is not None:
        with contextlib.suppress(OSError):
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()


def _verdict_stamp(data: Mapping[str, Any]) -> Path | None:
    """Where a passed check of exactly this document is remembered between processes.

    Checking a spec costs about a second (mostly importing openapi-spec-validator), paid by
    every process that starts a mock; a document that passed once passes again, so the
    verdict is kept under the user's cache folder, keyed by the document's content and the
    validator's version. Set ``SORA_MOCK_NO_SPEC_CACHE=1`` to check every time.
    """
    if os.environ.get("SORA_MOCK_NO_SPEC_CACHE"):
        return None
    try:
        version = importlib.metadata.version("openapi-spec-validator")
    except importlib.metadata.PackageNotFoundError:
        return None
    content = json.dumps(data, sort_keys=True, default=str).encode()
    digest = hashlib.sha256(content + version.encode()).hexdigest()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sora-mock" / "spec-checks" / digest


def _path_of(error: Any) -> list[str | int]:
    return list(getattr(error, "path", []) or [])


def _as_yaml(document: Mapping[str, Any]) -> bytes:
    import yaml

    plain = json.loads(json.dumps(document, default=str))
    text: str = yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, width=100)
    return text.encode()


def _check_extension(doc: YamlDocument) -> None:
    for problem in extension_problems(doc.data):
        raise doc.error(problem.message, problem.path, SpecError)


def _check_task_api(doc: YamlDocument) -> None:
    """A document that defines both task operations must describe a task API on its own
    (checked here, where its problems have a line; a model-only document is checked once
    merged)."""
    roles = {
        operation[KEY].get("role")
        for item in (doc.data.get("paths") or {}).values()
        for operation in item.values()
        if isinstance(operation, Mapping) and isinstance(operation.get(KEY), Mapping)
    }
    if {CREATE_ROLE, READ_ROLE} <= roles:
        try:
            Contract(doc.data, doc.source).tasks  # noqa: B018
        except TaskApiError as exc:
            raise doc.error(exc.problem.message, exc.problem.path, SpecError) from None


def _read(paths: Iterable[str | Path]) -> list[YamlDocument]:
    """Each file parsed and checked (OpenAPI and extension); ``bundled`` expands."""
    documents = []
    for path in paths:
        names = spec_paths() if str(path) == BUNDLED else (Path(path),)
        for name in names:
            doc = YamlDocument.from_path(name, SpecError)
            _check_spec(doc)
            _check_extension(doc)
            _check_task_api(doc)
            documents.append(doc)
    return documents


@cache
def _bundled() -> Contract:
    # Checked like any other spec; the verdict is remembered (see _verdict_stamp), so only
    # the first start after the spec changes pays for the check.
    return Contract.load([BUNDLED])
