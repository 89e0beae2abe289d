"""Policy variables: ``${key}`` placeholders that IAM fills in from the request context.

Only a policy with ``"Version": "2012-10-17"`` has variables. Under ``2008-10-17``, or with
no Version at all, IAM reads ``${aws:username}`` as those very characters, so the loader
asks for a template without variables and the text stays as written.

A template is a tuple of parts: policy text (where ``*`` and ``?`` may be wildcards),
literal text (an escape such as ``${*}``, or a value filled in), and variables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

TEXT = 0
LITERAL = 1
ANY = 2

Piece = tuple[int, str]

_ANY: Piece = (ANY, "")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_BODY = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")
_ESCAPES = frozenset({"*", "?", "$"})


@dataclass(frozen=True, slots=True)
class Variable:
    """``${key}`` or ``${key, 'default'}``; ``key`` as written, ``lookup`` lower-cased."""

    key: str
    lookup: str
    default: str | None


Part = Piece | Variable
Template = tuple[Part, ...]

#: What a template became for one request: the pieces IAM would compare (``None`` when a
#: variable has no value and no default), the most lenient reading with every unknown value
#: left open (``None`` when nothing is unknown or nothing could match), and the unknown keys.
Resolution = tuple[tuple[Piece, ...] | None, tuple[Piece, ...] | None, tuple[str, ...]]


def parse_template(text: str, variables: bool) -> Template:
    """Split ``text`` into parts; ``variables`` is whether the policy version has them."""
    if not variables or "${" not in text:
        return ((TEXT, text),)
    parts: list[Part] = []
    end = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > end:
            parts.append((TEXT, text[end : match.start()]))
        parts.append(_placeholder(match.group(1), match.group(0)))
        end = match.end()
    if end < len(text):
        parts.append((TEXT, text[end:]))
    return tuple(parts)


def _placeholder(body: str, written: str) -> Part:
    """An escape, a variable, or (for anything else between the braces) plain policy text."""
    if body in _ESCAPES:
        return (LITERAL, body)
    match = _BODY.fullmatch(body)
    if match is None:
        return (TEXT, written)
    key, default = match.group(1), match.group(2)
    return Variable(key, key.lower(), default)


def has_variables(template: Template) -> bool:
    return any(isinstance(part, Variable) for part in template)


def plain_text(template: Template) -> str:
    """The text of a template without variables, escapes already applied."""
    return "".join(part[1] for part in template if not isinstance(part, Variable))


def resolve(template: Template, context: Mapping[str, tuple[str, ...]]) -> Resolution:
    """Fill in the variables of ``template`` from ``context``.

    A key missing from ``context`` is unknown: IAM would see it absent, so the default is
    used if there is one, and the lenient reading leaves the value open. A key known to be
    absent, or with several values (IAM cannot substitute a multivalued key), takes the
    default; without one the template cannot match anything, whatever else is unknown.
    """
    actual: list[Piece] = []
    lenient: list[Piece] = []
    unknown: list[str] = []
    complete = True
    for part in template:
        if not isinstance(part, Variable):
            actual.append(part)
            lenient.append(part)
            continue

        values = context.get(part.lookup)
        fill = part.default if values is None or len(values) != 1 else values[0]
        if values is None:
            unknown.append(part.key)
            lenient.append(_ANY)
        elif fill is None:
            return None, None, ()
        else:
            lenient.append((LITERAL, fill))
        if fill is None:
            complete = False
        else:
            actual.append((LITERAL, fill))

    resolved = tuple(actual) if complete else None
    return resolved, (tuple(lenient) if unknown else None), tuple(unknown)


def static_pieces(template: Template) -> tuple[Piece, ...]:
    """The pieces of a template that has no variables."""
    return tuple(part for part in template if not isinstance(part, Variable))
