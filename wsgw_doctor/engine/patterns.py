"""Wildcard patterns as regular expressions, one flavour per kind of policy element.

IAM gives ``*`` and ``?`` slightly different reach depending on where they appear, so each
element gets its own translation:

* actions and ``StringLike`` values: ``*`` is any run of characters, ``?`` any one;
* ``Resource``: the IAM guide says the wildcards work within the colon-separated segments
  of an ARN, and that a ``*`` which ends a segment may expand past the colons after it. So a
  ``*`` followed by ``:`` or by the end of the pattern matches anything (``arn:aws:s3:::*``,
  ``arn:aws:apigateway:*``), while a ``*`` inside a segment, and every ``?``, stops at a
  colon: ``arn:aws:iam::*-prod:role/x`` never swallows a colon. ``/`` is an ordinary
  character and is crossed freely;
* ``ArnLike`` and ``ArnEquals`` values: the guide says each of the six colon-delimited
  components is compared on its own, so wildcards stop at the first five colons and only
  the last component (the resource part, which may hold colons) lets them run on.

Regexes are compiled once per distinct text and shared between policies.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from .variables import ANY, LITERAL, Piece

_STAR = -1
_QMARK = -2
_OPEN = -3

Token = int | str


def tokens(pieces: Sequence[Piece]) -> list[Token]:
    """Policy text broken into wildcards and literal runs; substituted values are literal."""
    out: list[Token] = []
    for kind, text in pieces:
        if kind == ANY:
            out.append(_OPEN)
        elif kind == LITERAL:
            if text:
                out.append(text)
        else:
            out.extend(_wildcards(text))
    return out


def _wildcards(text: str) -> list[Token]:
    out: list[Token] = []
    for chunk in re.split(r"([*?])", text):
        if chunk == "*":
            out.append(_STAR)
        elif chunk == "?":
            out.append(_QMARK)
        elif chunk:
            out.append(chunk)
    return out


def literal_prefix(pieces: Sequence[Piece]) -> str:
    """The text every match must start with: everything before the first wildcard."""
    prefix = ""
    for token in tokens(pieces):
        if isinstance(token, int):
            break
        prefix += token
    return prefix


def has_wildcard(pieces: Sequence[Piece]) -> bool:
    return any(isinstance(token, int) for token in tokens(pieces))


def glob_regex(pieces: Sequence[Piece]) -> str:
    """``*`` any run, ``?`` any one character, everything else literal."""
    parts = {_STAR: ".*", _QMARK: ".", _OPEN: ".*"}
    return "".join(parts[t] if isinstance(t, int) else re.escape(t) for t in tokens(pieces))


def resource_regex(pieces: Sequence[Piece]) -> str:
    """A ``Resource`` pattern: wildcards stay in their segment unless a ``*`` ends it."""
    toks = tokens(pieces)
    out: list[str] = []
    for i, token in enumerate(toks):
        if token == _STAR:
            out.append(".*" if _ends_segment(toks, i) else "[^:]*")
        elif token == _QMARK:
            out.append("[^:]")
        elif token == _OPEN:
            out.append(".*")
        else:
            out.append(re.escape(str(token)))
    return "".join(out)


def _ends_segment(toks: Sequence[Token], i: int) -> bool:
    if i + 1 == len(toks):
        return True
    following = toks[i + 1]
    return following == _OPEN or (isinstance(following, str) and following.startswith(":"))


def arn_regex(pieces: Sequence[Piece]) -> str | None:
    """An ``ArnLike`` value: six components; ``None`` if the value has fewer than six."""
    toks = tokens(pieces)
    if _OPEN in toks:
        return glob_regex(pieces)
    colons = 0
    out: list[str] = []
    for token in toks:
        last = colons >= 5
        if token == _STAR:
            out.append(".*" if last else "[^:]*")
        elif token == _QMARK:
            out.append("." if last else "[^:]")
        else:
            text = str(token)
            colons += text.count(":")
            out.append(re.escape(text))
    return "".join(out) if colons >= 5 else None


@functools.lru_cache(maxsize=4096)
def compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex, re.DOTALL)


def alternation(regexes: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern that fully matches any of ``regexes``; ``None`` for none."""
    if not regexes:
        return None
    return compiled("|".join(f"(?:{r})" for r in regexes))
