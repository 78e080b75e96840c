"""The contract: the OpenAPI document and what is derived from it.

Loading and checking the document, routing, the error catalogue and compiled request
validators (:class:`Contract`); the plain HTTP messages every layer speaks
(:class:`Request`, :class:`Response`) and the header values the contract gives meaning
to (:func:`parse_retry_after`); the request rules the schema cannot express; the
files shipped with the package. Two public submodules are imported on their own, since
they load heavy libraries: :mod:`sora_mock.contract.validation` (openapi-core, the
reference validator) and :mod:`sora_mock.contract.strategies` (hypothesis).
"""

from sora_mock.contract.headers import RetryAfter, parse_retry_after
from sora_mock.contract.messages import JSON_CONTENT, Header, Request, Response, json_bytes
from sora_mock.contract.openapi import (
    BUNDLED,
    Contract,
    DocumentedError,
    Operation,
)
from sora_mock.contract.request_check import BodyProblem, CheckedBody, RequestCheck
from sora_mock.contract.request_rules import (
    CallbackTarget,
    callback_target,
    callback_url_problem,
    loopback_authority,
    loopback_host,
    span_problem,
)
from sora_mock.contract.resources import (
    LIVE_PAGE_FILES,
    builtin_scenarios_path,
    defaults_path,
    example_scenarios_path,
    json_schema,
    live_page_file,
    sample_video,
    spec_path,
    spec_paths,
)
from sora_mock.contract.task_api import (
    BUILTIN_VALUES,
    CREATE_ROLE,
    PATTERN_PART,
    READ_ROLE,
    FieldRule,
    ServedFile,
    TaskAPI,
    TaskModel,
)
from sora_mock.contract.templates import Template
from sora_mock.contract.yaml_source import YamlDocument

__all__ = [
    "BUILTIN_VALUES",
    "BUNDLED",
    "CREATE_ROLE",
    "JSON_CONTENT",
    "LIVE_PAGE_FILES",
    "PATTERN_PART",
    "READ_ROLE",
    "BodyProblem",
    "CallbackTarget",
    "CheckedBody",
    "Contract",
    "DocumentedError",
    "FieldRule",
    "Header",
    "Operation",
    "Request",
    "RequestCheck",
    "Response",
    "RetryAfter",
    "ServedFile",
    "TaskAPI",
    "TaskModel",
    "Template",
    "YamlDocument",
    "builtin_scenarios_path",
    "callback_target",
    "callback_url_problem",
    "defaults_path",
    "example_scenarios_path",
    "json_bytes",
    "json_schema",
    "live_page_file",
    "loopback_authority",
    "loopback_host",
    "parse_retry_after",
    "sample_video",
    "span_problem",
    "spec_path",
    "spec_paths",
]
