"""The requests a check sends, made from a contract's task API.

Valid create bodies come from each model's documented examples, varied (each other value
of an ``enum`` field, an optional field left out, unknown fields added where the model
accepts them). Invalid ones break one thing each: a required field missing, an unknown
model, a field of the wrong JSON type or with a value its schema refuses, a rule beyond
the schema (a span, a callback URL), or the body itself (not JSON, not an object, another
content type). Each carries the answer the contract prescribes: the documented status and
code, and the field (``param``) the contract's own request check names. Task ids are
well-formed ones no server issued (made from the contract's id pattern) and ones the id
parameter's schema refuses.

The cases are plain data, made once per contract; the ``*_strategy`` methods wrap them as
Hypothesis strategies whose simplest example is the first case, so a failure shrinks to a
readable request.

Example::

    cases = RequestCases.of(Contract.bundled())
    cases.invalid_kinds  # ("missing_model", ..., "wrong_content_type")
    first = cases.invalid["missing_model"][0]
    first.status, first.param  # 400, "model"
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sora_mock.contract import PATTERN_PART, Contract, Operation, RequestCheck, TaskModel

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["InvalidCreate", "RequestCases", "TaskIdCase", "error_code"]

JSON_TYPE = "application/json"
#: Unknown fields added to valid bodies, when the model accepts them.
EXTRA_FIELDS = ("note", "seed")
#: Task id kinds: ids the id parameter's schema refuses, and well-formed ids never issued.
ID_KINDS = ("malformed", "unknown")
#: The ``created`` part of the unknown task id probed first (long past, so never issued).
UNKNOWN_CREATED = 1_000_000_000
_PATH_UNSAFE = set("/?#% ")
_WRONG_TYPES: tuple[Any, ...] = (0, True, None, [0], {"a": 1}, "x", 1.5)
_JSON_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}
_BAD_CALLBACKS = (
    "http://example.com/hook",
    "https://127.0.0.1/hook",
    "https://10.0.0.1/h",
    "https://localhost/hook",
    "https://192.168.1.2/hook",
    "not a url",
)
_OTHER_CONTENT_TYPES = (
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
)


@dataclass(frozen=True)
class InvalidCreate:
    """A create request the contract refuses, and the answer it prescribes.

    ``kind`` names what is broken (one of :attr:`RequestCases.invalid_kinds`); the request
    breaks exactly one thing, so ``param`` (the field the error must name, or None when
    the whole body is at fault) is unambiguous. ``code`` None: the contract documents none.
    """

    kind: str
    body: bytes
    content_type: str = JSON_TYPE
    status: int = 400
    code: str | None = None
    param: str | None = None

    @property
    def text(self) -> str:
        """The body as text, for messages."""
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class TaskIdCase:
    """A task id the contract answers with an error, and that error."""

    kind: str  # one of ID_KINDS
    task_id: str
    status: int
    code: str | None = None
    param: str | None = None


class RequestCases:
    """Every request a check sends, for one contract (see the module's docstring).

    Attributes:
        contract: the contract the cases come from.
        create_path: the path of the create operation.
        examples: per model that can be created, its first valid documented body.
        variants: per model, the valid bodies (the example first).
        invalid: per kind, the invalid create requests (simplest first).
        callback_kinds: the kinds that probe a callback field.
        unknown_id: a well-formed task id that no server issued.
        ids: per id kind, the task ids of that kind.
    """

    def __init__(self, contract: Contract) -> None:
        tasks = contract.tasks
        self.contract = contract
        self.tasks = tasks
        self.create_path = tasks.create.path
        self._check = RequestCheck(contract)
        self._bad_request = error_code(tasks.create, 400)
        self.examples: dict[str, dict[str, Any]] = {}
        self.variants: dict[str, tuple[dict[str, Any], ...]] = {}
        self._extras: dict[str, tuple[str, ...]] = {}
        for model in tasks.models.values():
            variants = list(self._valid_variants(model))
            if variants:
                self.examples[model.name] = variants[0]
                self.variants[model.name] = tuple(variants)
                self._extras[model.name] = self._extra_fields(model, variants[0])
        invalid: dict[str, list[InvalidCreate]] = {}
        callbacks: set[str] = set()
        for case, callback in self._invalid_cases():
            if case not in invalid.setdefault(case.kind, []):
                invalid[case.kind].append(case)
            if callback:
                callbacks.add(case.kind)
        self.invalid: dict[str, tuple[InvalidCreate, ...]] = {
            kind: tuple(found) for kind, found in invalid.items()
        }
        self.callback_kinds = frozenset(callbacks)
        self._id_valid = contract.parameter_validator(tasks.read, tasks.id_parameter).is_valid
        self.unknown_id = self._unknown_id(UNKNOWN_CREATED)
        self.ids: dict[str, tuple[TaskIdCase, ...]] = {
            kind: found for kind in ID_KINDS if (found := self._id_cases(kind))
        }

    @classmethod
    def of(cls, contract: Contract | None = None) -> RequestCases:
        """The cases of ``contract`` (default: the bundled one), made once per contract."""
        return _cases_of(contract or Contract.bundled())

    # -- what there is -----------------------------------------------------------------------

    @property
    def invalid_kinds(self) -> tuple[str, ...]:
        """Every kind of invalid create request, in the order they are tried."""
        return tuple(self.invalid)

    def task_path(self, task_id: str) -> str:
        """The path that reads the task ``task_id``."""
        return self.tasks.read.path.replace(f"{{{self.tasks.id_parameter}}}", task_id)

    def accepts(self, body: Mapping[str, Any]) -> bool:
        """True when the contract accepts ``body`` as a create request."""
        return self._check.problem(body) is None

    # -- as Hypothesis strategies --------------------------------------------------------

    def valid_strategy(
        self, model: str | None = None, *, besides: Iterable[Mapping[str, Any]] = ()
    ) -> SearchStrategy[dict[str, Any]]:
        """Valid create bodies of ``model`` (default: of every model), the example first;
        bodies in ``besides`` are left out while others remain."""
        from hypothesis import strategies as st

        names = list(self.variants) if model is None else [model]
        if not names or any(name not in self.variants for name in names):
            raise ValueError(f"no valid create body is known for {model or 'any model'}")
        left_out = list(besides)
        return st.one_of([self._valid_of(name, left_out) for name in names])

    def invalid_strategy(self, kinds: Iterable[str] | None = None) -> SearchStrategy[InvalidCreate]:
        """Invalid create requests of ``kinds`` (default: every kind), simplest first."""
        from hypothesis import strategies as st

        chosen = self.invalid_kinds if kinds is None else tuple(kinds)
        unknown = sorted(set(chosen) - set(self.invalid))
        if unknown or not chosen:
            raise ValueError(f"kinds must be among {list(self.invalid)}, got {chosen!r}")
        return st.one_of([self._invalid_of(kind) for kind in chosen])

    def id_strategy(self, kinds: Iterable[str] = ID_KINDS) -> SearchStrategy[TaskIdCase]:
        """Task ids of ``kinds`` (``malformed``, ``unknown``) with the answers they get;
        kinds the contract cannot make (a parameter that accepts any id) are left out."""
        from hypothesis import strategies as st

        chosen = [kind for kind in kinds if kind in self.ids]
        if not chosen:
            raise ValueError(f"no task id cases of {tuple(kinds)!r}")
        return st.one_of([self._ids_of(kind) for kind in chosen])

    def _valid_of(
        self, name: str, left_out: list[Mapping[str, Any]]
    ) -> SearchStrategy[dict[str, Any]]:
        from hypothesis import strategies as st

        variants = [body for body in self.variants[name] if body not in left_out]
        extras = self._extras[name]
        bodies = st.sampled_from(variants or self.variants[name])
        if not extras:
            return bodies
        optional: dict[str, SearchStrategy[Any]] = {
            extras[0]: st.text(max_size=20),
            extras[1]: st.integers(),
        }
        return bodies.flatmap(
            lambda body: st.fixed_dictionaries(_constants(body), optional=optional)
        ).filter(self.accepts)

    def _invalid_of(self, kind: str) -> SearchStrategy[InvalidCreate]:
        from hypothesis import strategies as st

        found = self.invalid[kind]
        simple = st.sampled_from(found)
        field = found[0].param
        if field is None:
            return simple  # the body as a whole is at fault: nothing to vary
        bodies = [json.loads(case.body) for case in found]
        texts = [body[field] for body in bodies if isinstance(body.get(field), str)]
        if not texts:
            return simple
        # Variety beyond the fixed cases: a refused text value with a few characters added.
        base = bodies[0]

        def grown(pair: tuple[str, str]) -> SearchStrategy[InvalidCreate]:
            case = self._json_case(kind, {**base, field: pair[0] + pair[1]}, field)
            return st.nothing() if case is None else st.just(case)  # nothing: not refused

        pairs = st.tuples(st.sampled_from(texts), st.text("abc.,:/ 0123", max_size=6))
        return st.one_of(simple, pairs.flatmap(grown))

    def _ids_of(self, kind: str) -> SearchStrategy[TaskIdCase]:
        from hypothesis import strategies as st

        fixed = self.ids[kind]
        template = fixed[0]
        if kind == "unknown":
            made = self._id_text_strategy().filter(self._id_valid)
        else:
            alphabet = st.characters(
                min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/?#%"
            )
            made = st.text(alphabet=alphabet, min_size=1, max_size=30).filter(
                lambda text: _path_safe(text) and not self._id_valid(text)
            )
        return st.one_of(
            st.sampled_from(fixed),
            made.map(
                lambda task_id: TaskIdCase(
                    kind, task_id, template.status, template.code, template.param
                )
            ),
        )

    def _id_text_strategy(self) -> SearchStrategy[str]:
        from hypothesis import strategies as st

        parts: list[SearchStrategy[str]] = []
        for literal, created, alphabet, count in _id_parts(self.tasks.id_pattern):
            if literal:
                parts.append(st.just(literal))
            elif created:
                past, future = st.integers(1, 999_999_999), st.integers(3 * 10**9, 10**10 - 1)
                parts.append(st.one_of(past, future).map(str))
            else:
                parts.append(st.text(alphabet, min_size=count, max_size=count))
        return st.tuples(*parts).map("".join)

    # -- making the cases ------------------------------------------------------------------

    def _valid_variants(self, model: TaskModel) -> Iterator[dict[str, Any]]:
        """The model's valid bodies: its documented examples, then variations of them."""
        callback = model.callback_field
        schema = self.contract.resolve(model.request_schema)
        properties = self._properties(schema)
        required = set(schema.get("required") or ())
        bases = [
            {key: value for key, value in example.items() if key != callback}
            for example in self._examples_of(model, properties, required)
        ]
        seen: set[str] = set()
        for body in _variations(bases, properties, required, callback):
            key = json.dumps(body, sort_keys=True)
            if key not in seen and self.accepts(body):
                seen.add(key)
                yield body

    def _examples_of(
        self, model: TaskModel, properties: Mapping[str, Any], required: set[str]
    ) -> list[dict[str, Any]]:
        field = self.tasks.model_field
        documented = [
            dict(example)
            for example in (model.example, *self.contract.request_examples())
            if isinstance(example, Mapping) and example.get(field) == model.name
        ]
        if documented:
            return documented
        # No documented example: the required fields, each from its schema's own example.
        built: dict[str, Any] = {field: model.name}
        for name in required - {field}:
            value = _schema_example(properties.get(name) or {})
            if value is not None:
                built[name] = value
        return [built]

    def _extra_fields(self, model: TaskModel, example: Mapping[str, Any]) -> tuple[str, ...]:
        # Each name, numbered when the model has a field of that name.
        names = tuple(
            next(f"{name}{n or ''}" for n in range(9) if f"{name}{n or ''}" not in model.fields)
            for name in EXTRA_FIELDS
        )
        accepted = self.accepts({**example, names[0]: "x", names[1]: 7})
        return names if accepted else ()

    def _properties(self, schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        return {
            name: self.contract.resolve(value)
            for name, value in (schema.get("properties") or {}).items()
            if isinstance(self.contract.resolve(value), Mapping)
        }

    def _invalid_cases(self) -> Iterator[tuple[InvalidCreate, bool]]:
        """Every invalid create, with whether it probes a callback field."""
        for candidate in self._candidates():
            case = self._json_case(candidate.kind, candidate.body, candidate.field)
            if case is not None:
                yield case, candidate.callback
        yield from ((case, False) for case in self._body_cases())

    def _candidates(self) -> Iterator[_Candidate]:
        """Bodies that break one field of a model's example (kept when the contract's
        request check refuses them naming that field)."""
        field = self.tasks.model_field
        for name, body in self.examples.items():
            model = self.tasks.models[name]
            schema = self.contract.resolve(model.request_schema)
            properties = self._properties(schema)
            for missing in (f for f in model.fields if f in (schema.get("required") or ())):
                rest = {key: value for key, value in body.items() if key != missing}
                yield _Candidate(f"missing_{missing}", rest, missing)
            for other in ("", name.upper(), f"{name} ", "no-such-model"):
                if other not in self.tasks.models:
                    yield _Candidate(f"wrong_{field}", {**body, field: other}, field)
            for prop in model.fields:
                yield from self._field_candidates(model, body, prop, properties.get(prop) or {})

    def _field_candidates(
        self,
        model: TaskModel,
        body: Mapping[str, Any],
        field: str,
        schema: Mapping[str, Any],
    ) -> Iterator[_Candidate]:
        """Bodies that break ``field`` of ``body``: its type, its value, its rule."""
        callback = field == model.callback_field

        def changed(kind: str, value: Any) -> _Candidate:
            return _Candidate(f"{field}_{kind}", {**body, field: value}, field, callback)

        types = _declared_types(schema)
        if types:
            yield from (changed("wrong_type", v) for v in _WRONG_TYPES if not _has_type(v, types))
        if field != self.tasks.model_field:
            sources = [body.get(field), *(v.get(field) for v in self.variants[model.name])]
            for source in (*sources, _schema_example(schema)):
                if source is None:
                    continue
                for value in _near_misses(source, schema):
                    if not types or _has_type(value, types):
                        yield changed("invalid", value)
        rule = model.rules.get(field)
        if rule is not None and rule.span_max is not None:
            span = rule.span_max
            for text in (f"0,{span + 0.5:g}", f"1,{1 + span * 2:g}", f"10,{10 + span + 1:g}"):
                yield changed("too_wide", text)
            for text in ("3,3", "5,1", "0,0"):
                yield changed("empty_span", text)
        if callback:
            yield from (
                _Candidate(f"bad_{field}", {**body, field: url}, field, True)
                for url in _BAD_CALLBACKS
            )

    def _body_cases(self) -> Iterator[InvalidCreate]:
        """Bodies the create call refuses as a whole (param None)."""
        if not self.examples:
            return
        example = next(iter(self.examples.values()))
        text = json.dumps(example)
        code = self._bad_request
        broken = (text[:-1].encode(), b"{", (text[:-1] + ",}").encode(), b"\xff\xfe", b"{'a': 1}")
        for raw in broken:
            yield InvalidCreate("malformed_json", raw, code=code)
        yield InvalidCreate("empty_body", b"", code=code)
        for value in ([], "x", 1, [0, 1]):
            yield InvalidCreate("not_an_object", json.dumps(value).encode(), code=code)
        for content_type in _OTHER_CONTENT_TYPES:
            yield InvalidCreate("wrong_content_type", text.encode(), content_type, code=code)

    def _json_case(self, kind: str, body: Mapping[str, Any], field: str) -> InvalidCreate | None:
        """The case of sending ``body``, when the contract refuses it naming ``field``."""
        problem = self._check.problem(body)
        if problem is None or problem.param != field:
            return None
        encoded = json.dumps(body).encode()
        return InvalidCreate(kind, encoded, code=self._bad_request, param=field)

    def _unknown_id(self, created: int) -> str:
        parts = []
        for literal, is_created, alphabet, count in _id_parts(self.tasks.id_pattern):
            if literal:
                parts.append(literal)
            elif is_created:
                parts.append(str(created))
            else:
                filler = alphabet[-1] * 2 + alphabet[0] * 4 + alphabet[-1] * 2
                parts.append((filler * count)[:count])
        return "".join(parts)

    def _id_cases(self, kind: str) -> tuple[TaskIdCase, ...]:
        read = self.tasks.read
        if kind == "unknown":
            known = (self.unknown_id, self._unknown_id(1))
            return tuple(
                TaskIdCase(kind, task_id, 404, error_code(read, 404))
                for task_id in dict.fromkeys(known)
                if self._id_valid(task_id)
            )
        prefix = self.tasks.id_prefix
        near = (
            self.unknown_id.upper(),
            self.unknown_id[len(prefix) :],
            self.unknown_id[1:],
            "123",
        )
        param = self.tasks.id_parameter
        return tuple(
            TaskIdCase(kind, task_id, 400, error_code(read, 400), param)
            for task_id in dict.fromkeys(near)
            if _path_safe(task_id) and not self._id_valid(task_id)
        )


@functools.lru_cache(maxsize=16)
def _cases_of(contract: Contract) -> RequestCases:
    return RequestCases(contract)


def error_code(operation: Operation, status: int) -> str | None:
    """The error code the contract documents for ``status`` of ``operation``, if any."""
    documented = operation.errors.get(status)
    return None if documented is None else documented.code


@dataclass(frozen=True)
class _Candidate:
    """A body meant to break ``field``, labelled ``kind``."""

    kind: str
    body: Mapping[str, Any]
    field: str
    callback: bool = False


def _constants(body: Mapping[str, Any]) -> dict[str, SearchStrategy[Any]]:
    from hypothesis import strategies as st

    return {key: st.just(value) for key, value in body.items()}


def _variations(
    bases: list[dict[str, Any]],
    properties: Mapping[str, Mapping[str, Any]],
    required: set[str],
    callback: str | None,
) -> Iterator[dict[str, Any]]:
    """The bases, then each with one optional field left out, then each other value of an
    ``enum`` field (the caller keeps only those the contract accepts)."""
    yield from bases
    for base in bases:
        for name in base:
            if name not in required:
                yield {key: value for key, value in base.items() if key != name}
    for base in bases:
        for name, schema in properties.items():
            if name == callback or name in required:
                continue
            for value in schema.get("enum") or ():
                if base.get(name) != value:
                    yield {**base, name: value}


def _schema_example(schema: Mapping[str, Any]) -> Any:
    """A value the schema documents: its ``const``, ``example``, ``default`` or first
    ``examples`` or ``enum`` entry (None when it documents none)."""
    for key in ("const", "example", "default"):
        if key in schema:
            return schema[key]
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    return None


def _declared_types(schema: Mapping[str, Any]) -> tuple[str, ...]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return (declared,)
    if isinstance(declared, list):
        return tuple(str(t) for t in declared)
    return ()


def _has_type(value: Any, types: tuple[str, ...]) -> bool:
    for name in types:
        kinds = _JSON_TYPES.get(name, ())
        if isinstance(value, bool) and bool not in kinds:
            continue  # JSON has no boolean integers
        if name == "integer" and isinstance(value, float):
            continue
        if isinstance(value, kinds):
            return True
    return False


def _near_misses(value: Any, schema: Mapping[str, Any]) -> list[Any]:
    """Values of the same JSON type as ``value`` that a schema may well refuse."""
    if isinstance(value, bool):
        return []
    if isinstance(value, str):
        longest = schema.get("maxLength")
        misses: list[Any] = [value + ".txt", value[:-1], "", " ", value.replace(".", "_")]
        misses += [value.upper(), value + "x"]
        if isinstance(longest, int) and longest < 100_000:
            misses.append("x" * (longest + 1))
        return misses
    if isinstance(value, int):
        misses = [value + 1, value - 1, -1, 0, value * 1000 + 7]
        for key, step in (("minimum", -1), ("maximum", 1)):
            if isinstance(schema.get(key), int):
                misses.append(schema[key] + step)
        return misses
    if isinstance(value, float):
        return [-1.0, value + 0.5, value * 1000]
    if isinstance(value, list):
        items = schema.get("items")
        items = items if isinstance(items, Mapping) else {}
        first = [[item] for item in _near_misses(value[0], items)] if value else []
        return [*first, [], value + value[:1], [0]]
    if isinstance(value, dict):
        return [{}]
    return []


def _id_parts(pattern: str) -> Iterator[tuple[str, bool, str, int]]:
    """The pieces of an id pattern: ``(literal, is_created, alphabet, count)``."""
    at = 0
    for found in PATTERN_PART.finditer(pattern):
        if found.start() > at:
            yield pattern[at : found.start()], False, "", 0
        at = found.end()
        if found.group(3):
            yield "", True, "", 0
        elif found.group(1) == "random":
            yield "", False, "0123456789abcdefghijklmnopqrstuvwxyz", int(found.group(2))
        else:
            letters = "abcdefghijklmnopqrstuvwxyz"
            yield "", False, letters + letters.upper(), int(found.group(2))
    if at < len(pattern):
        yield pattern[at:], False, "", 0


def _path_safe(task_id: str) -> bool:
    return bool(task_id) and not set(task_id) & _PATH_UNSAFE and task_id not in (".", "..")
