"""Positions in a policy's JSON text, so that an error can name its line and column.

Decoded JSON forgets where things were. When a policy turns out to be wrong, the text is
walked once more, following the path of the faulty element, to find where it was written.
Only text that already decoded cleanly is walked, and only after an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

Path = tuple[str | int, ...]

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def position(text: str, path: Path) -> int | None:
    """Offset of the element at ``path``: the key of a member, the start of an item."""
    try:
        return _follow(text, path)
    except (ValueError, IndexError, RecursionError):
        return None


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``, counted as the json module counts them."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - text.rfind("\n", 0, offset)


def first_duplicate(text: str) -> tuple[Path, str, int] | None:
    """The first object member whose key repeats an earlier one: its object, key, offset."""
    try:
        return _duplicate(text, _skip(text, 0), ())
    except (ValueError, IndexError, RecursionError):
        return None


def _follow(text: str, path: Path) -> int:
    at = found = _skip(text, 0)
    for step in path:
        if isinstance(step, str) and text[at] == "{":
            member = _member(text, at, step)
            if member is None:
                break
            found, at = member
        elif isinstance(step, int) and text[at] == "[":
            item = _item(text, at, step)
            if item is None:
                break
            found = at = item
        else:
            break
    return found


def _member(text: str, at: int, wanted: str) -> tuple[int, int] | None:
    found = None
    for key, key_at, value_at in _members(text, at):
        if key == wanted:
            found = (key_at, value_at)
    return found


def _item(text: str, at: int, wanted: int) -> int | None:
    for n, item_at in enumerate(_items(text, at)):
        if n == wanted:
            return item_at
    return None


def _duplicate(text: str, at: int, path: Path) -> tuple[Path, str, int] | None:
    if text[at] == "{":
        seen: set[str] = set()
        for key, key_at, value_at in _members(text, at):
            if key in seen:
                return path, key, key_at
            seen.add(key)
            found = _duplicate(text, value_at, (*path, key))
            if found is not None:
                return found
    elif text[at] == "[":
        for n, item_at in enumerate(_items(text, at)):
            found = _duplicate(text, item_at, (*path, n))
            if found is not None:
                return found
    return None


def _members(text: str, at: int) -> Iterator[tuple[str, int, int]]:
    """Each member of the object at ``at``: key, offset of the key, offset of the value."""
    i = _skip(text, at + 1)
    while text[i] != "}":
        key_at = i
        key, i = _DECODER.raw_decode(text, i)
        i = _skip(text, _skip(text, i) + 1)
        yield str(key), key_at, i
        i = _after(text, i)
    return


def _items(text: str, at: int) -> Iterator[int]:
    """The offset of each item of the array at ``at``."""
    i = _skip(text, at + 1)
    while text[i] != "]":
        yield i
        i = _after(text, i)


def _after(text: str, at: int) -> int:
    """Skip the value at ``at`` and the comma after it, if any."""
    _, end = _DECODER.raw_decode(text, at)
    end = _skip(text, end)
    return _skip(text, end + 1) if text[end] == "," else end


def _skip(text: str, at: int) -> int:
    match = _WS.match(text, at)
    return match.end() if match else at
