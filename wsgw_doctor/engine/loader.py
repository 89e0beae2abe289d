"""Reading policy files into ``Policy`` objects, with errors that point into the file.

The checks follow what IAM refuses when a policy is saved, so that a mistake is reported
where it was made rather than as a strange decision later on. One is stricter than IAM: a
key written twice in one object is an error, since JSON readers disagree on which counts.

``Principal`` and ``NotPrincipal`` are accepted and ignored. IAM refuses them in an
identity policy, but people check statements copied from resource policies or templates,
and the doctor always asks about one principal: the one the policies are attached to. A
statement is therefore taken to be about that principal, and the element is left out.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from .conditions import parse_operator
from .errors import InvalidElementError, PolicyError, quote, render_path
from .locate import first_duplicate, line_col, position
from .model import Condition, Effect, Policy, Statement

VERSIONS = ("2012-10-17", "2008-10-17")
_VARIABLES_VERSION = "2012-10-17"
_TOP = ("Version", "Id", "Statement")
_ELEMENTS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)


class _DuplicateKeyError(Exception):
    """Raised while decoding when an object repeats a key."""


class _ConstantError(Exception):
    """Raised while decoding at ``NaN`` or ``Infinity``, which JSON does not have."""


def load_policy_file(path: str | Path, label: str | None = None) -> Policy:
    """Read and parse the policy in ``path``; ``label`` names it in messages and results."""
    source = label if label is not None else str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise PolicyError(source, "file not found", hint="check the path") from None
    except IsADirectoryError:
        raise PolicyError(source, "is a directory, not a policy file") from None
    except PermissionError:
        raise PolicyError(source, "permission denied", hint="check the file's mode") from None
    except (OSError, ValueError) as error:
        raise PolicyError(source, f"cannot be read: {_reason(error)}") from None
    return parse_policy(data, source)


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error)


def parse_policy(text: str | bytes, source: str) -> Policy:
    """Parse policy JSON; ``bytes`` must be UTF-8 (a byte-order mark is allowed)."""
    if isinstance(text, bytes):
        text = _decode(text, source)
    document = _decode_json(text, source)
    try:
        return _policy(document, source)
    except InvalidElementError as error:
        offset = position(text, error.path)
        line, col = line_col(text, offset) if offset is not None else (None, None)
        raise _located(error, source, line, col) from None


def parse_policy_document(doc: object, source: str) -> Policy:
    """Parse a policy that is already decoded from JSON."""
    try:
        return _policy(doc, source)
    except InvalidElementError as error:
        raise _located(error, source, None, None) from None


def _located(
    error: InvalidElementError, source: str, line: int | None, col: int | None
) -> PolicyError:
    return PolicyError(
        source,
        error.message,
        location=render_path(error.path),
        line=line,
        col=col,
        hint=error.hint,
    )


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PolicyError(
            source,
            f"is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})",
            hint="save the policy as UTF-8",
        ) from None


def _decode_json(text: str, source: str) -> object:
    """Decode strict JSON: no NaN or Infinity, and no key written twice in one object."""
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise PolicyError(
            source,
            f"not valid JSON: {error.msg}",
            line=error.lineno,
            col=error.colno,
            hint=_json_hint(error.msg, text),
        ) from None
    except _DuplicateKeyError:
        raise _duplicate(text, source) from None
    except _ConstantError as error:
        raise PolicyError(
            source, f"not valid JSON: {error} is not a JSON value", hint="write numbers as digits"
        ) from None
    except RecursionError:
        raise PolicyError(source, "not valid JSON: nested too deeply") from None
    except ValueError:
        raise PolicyError(source, "not valid JSON: a number has too many digits") from None


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKeyError
    return result


def _constant(name: str) -> NoReturn:
    raise _ConstantError(name)


def _duplicate(text: str, source: str) -> PolicyError:
    found = first_duplicate(text)
    if found is None:
        return PolicyError(source, "a key appears twice in one object")
    path, key, offset = found
    line, col = line_col(text, offset)
    return PolicyError(
        source,
        f"{quote(key)} appears twice",
        location=render_path(path),
        line=line,
        col=col,
        hint="merge the two; JSON readers disagree on which one counts",
    )


def _json_hint(message: str, text: str) -> str:
    if not text.strip():
        return "the file is empty; a policy is a JSON object"
    if message.startswith("Unterminated string"):
        return "close the string with a double quote"
    if message.startswith("Extra data"):
        return "a policy is a single JSON object; remove what follows it"
    if message.startswith("Invalid control character"):
        return "write line breaks and tabs inside strings as \\n and \\t"
    return "check for a trailing comma or a missing quote"


def _policy(doc: object, source: str) -> Policy:
    if not isinstance(doc, dict):
        raise InvalidElementError(
            f"a policy is a JSON object, not {_kind(doc)}",
            hint='write it as {"Version": "2012-10-17", "Statement": [...]}',
        )
    _known_keys(doc, _TOP, ())
    version = _version(doc)
    if "Id" in doc and not isinstance(doc["Id"], str):
        raise InvalidElementError("Id must be a string", path=("Id",))
    statements = _statements(doc, version == _VARIABLES_VERSION)
    return Policy(source, statements, version)


def _version(doc: Mapping[str, object]) -> str | None:
    if "Version" not in doc:
        return None
    version = doc["Version"]
    if isinstance(version, str) and version in VERSIONS:
        return version
    raise InvalidElementError(
        f'Version must be "2012-10-17" or "2008-10-17", not {_show(version)}',
        hint='use "2012-10-17"',
        path=("Version",),
    )


def _statements(doc: Mapping[str, object], variables: bool) -> tuple[Statement, ...]:
    if "Statement" not in doc:
        raise InvalidElementError(
            "no Statement element", hint="list the statements under Statement"
        )
    raw = doc["Statement"]
    if isinstance(raw, dict):
        return (_statement(raw, 0, ("Statement",), variables),)
    if not isinstance(raw, list):
        raise InvalidElementError(
            f"Statement must be an object or a list of objects, not {_kind(raw)}",
            path=("Statement",),
        )
    if not raw:
        raise InvalidElementError(
            "Statement is an empty list", hint="add at least one statement", path=("Statement",)
        )
    return tuple(_statement(s, i, ("Statement", i), variables) for i, s in enumerate(raw))


def _statement(raw: object, index: int, path: tuple[str | int, ...], variables: bool) -> Statement:
    if not isinstance(raw, dict):
        raise InvalidElementError(f"a statement is a JSON object, not {_kind(raw)}", path=path)
    _known_keys(raw, _ELEMENTS, path)
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise InvalidElementError("Sid must be a string", path=(*path, "Sid"))
    effect = _effect(raw, path)
    actions, not_action = _either(raw, "Action", path)
    resources, not_resource = _either(raw, "Resource", path)
    conditions = _conditions(raw, path, variables)
    try:
        return Statement(
            index, sid, effect, actions, not_action, resources, not_resource, conditions, variables
        )
    except InvalidElementError as error:
        raise error.within(*path) from None


def _effect(raw: Mapping[str, object], path: tuple[str | int, ...]) -> Effect:
    if "Effect" not in raw:
        raise InvalidElementError(
            "no Effect element", hint='add "Effect": "Allow" or "Effect": "Deny"', path=path
        )
    effect = raw["Effect"]
    if effect == "Allow" or effect == "Deny":
        return "Allow" if effect == "Allow" else "Deny"
    raise InvalidElementError(
        f'Effect must be "Allow" or "Deny", not {_show(effect)}',
        hint="the value is case-sensitive",
        path=(*path, "Effect"),
    )


def _either(
    raw: Mapping[str, object], name: str, path: tuple[str | int, ...]
) -> tuple[tuple[str, ...], bool]:
    """The strings of ``name`` or of ``Not<name>``, and whether it was the negated one."""
    negated = f"Not{name}"
    if name in raw and negated in raw:
        raise InvalidElementError(
            f"both {name} and {negated} are present", hint="use one of them", path=(*path, name)
        )
    if name not in raw and negated not in raw:
        raise InvalidElementError(
            f"neither {name} nor {negated} is present",
            hint=f"every statement needs {name} or {negated}",
            path=path,
        )
    element = negated if negated in raw else name
    return _strings(raw[element], element, (*path, element)), element == negated


def _strings(value: object, element: str, path: tuple[str | int, ...]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise InvalidElementError(
            f"{element} must be a string or a list of strings, not {_kind(value)}", path=path
        )
    if not value:
        raise InvalidElementError(f"{element} is an empty list", path=path)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidElementError(
                f"{element} entries must be strings, not {_kind(item)}", path=(*path, i)
            )
    return tuple(value)


def _conditions(
    raw: Mapping[str, object], path: tuple[str | int, ...], variables: bool
) -> tuple[Condition, ...]:
    if "Condition" not in raw:
        return ()
    block = raw["Condition"]
    where = (*path, "Condition")
    if not isinstance(block, dict):
        raise InvalidElementError(
            f"Condition must be an object of operators, not {_kind(block)}",
            hint='for example {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}',
            path=where,
        )
    conditions: list[Condition] = []
    for name, keys in block.items():
        conditions.extend(_operator_block(name, keys, (*where, str(name)), variables))
    return tuple(conditions)


def _operator_block(
    name: object, keys: object, path: tuple[str | int, ...], variables: bool
) -> list[Condition]:
    if not isinstance(name, str):
        raise InvalidElementError("condition operators must be strings", path=path)
    try:
        parse_operator(name)
    except InvalidElementError as error:
        raise error.within(*path) from None
    if not isinstance(keys, dict):
        raise InvalidElementError(
            f"{name} must map condition keys to values, not {_kind(keys)}", path=path
        )
    conditions = []
    for key, value in keys.items():
        where = (*path, str(key))
        if not isinstance(key, str) or not key:
            raise InvalidElementError("a condition key must be a non-empty string", path=where)
        values = _condition_values(value, where)
        try:
            conditions.append(Condition(name, key, values, variables))
        except InvalidElementError as error:
            raise error.within(*where) from None
    return conditions


def _condition_values(value: object, path: tuple[str | int, ...]) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(_scalar(item, (*path, i)) for i, item in enumerate(value))
    return (_scalar(value, path),)


def _scalar(value: object, path: tuple[str | int, ...]) -> str:
    """A condition value as IAM compares it: a string, with JSON true as ``"true"``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:
            raise InvalidElementError("the number has too many digits", path=path) from None
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    raise InvalidElementError(
        f"condition values must be strings, numbers or booleans, not {_kind(value)}",
        hint='write a value as "text", a number or true/false, or a list of them',
        path=path,
    )


def _known_keys(
    obj: Mapping[object, object], allowed: tuple[str, ...], path: tuple[str | int, ...]
) -> None:
    for key in obj:
        if isinstance(key, str) and key in allowed:
            continue
        where = (*path, str(key))
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = (
            f"did you mean {close[0]}?" if close else f"the elements here are {', '.join(allowed)}"
        )
        raise InvalidElementError(f"unknown element {quote(str(key))}", hint=hint, path=where)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _show(value: object) -> str:
    return quote(value) if isinstance(value, str) else _kind(value)
