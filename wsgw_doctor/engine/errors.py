"""Errors a policy file can cause, worded for the person who wrote the file.

A policy the engine cannot read must never surface as a traceback: every way the loader can
fail ends in one ``PolicyError`` whose text names the file and the place in it.
"""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy that cannot be read, decoded or understood.

    ``str()`` gives one line: ``FILE:LINE:COL: message`` when the position is known, else
    ``FILE: LOCATION: message``. ``hint`` says what to do about it and is kept apart so that
    a caller can print it on a line of its own.
    """

    def __init__(
        self,
        source: str,
        message: str,
        *,
        location: str = "",
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.source = source
        self.message = message
        self.location = location
        self.line = line
        self.col = col
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        if self.line is not None and self.col is not None:
            return f"{self.source}:{self.line}:{self.col}: {where}{self.message}"
        return f"{self.source}: {where}{self.message}"


class InvalidElementError(ValueError):
    """An element that cannot be compiled; the loader adds the file and the place.

    ``path`` is relative to the element being compiled (``("Condition", "StringLike")``),
    so that a statement can be built on its own and still say what in it is wrong.
    """

    def __init__(
        self, message: str, hint: str | None = None, path: tuple[str | int, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = path

    def within(self, *prefix: str | int) -> InvalidElementError:
        """The same error, placed inside ``prefix``."""
        return InvalidElementError(self.message, self.hint, (*prefix, *self.path))


def render_path(path: tuple[str | int, ...]) -> str:
    """``("Statement", 2, "Condition")`` as ``Statement[2].Condition``."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            name = step if step.isprintable() and step else quote(step)
            text += f".{name}" if text else name
    return text


def quote(text: str, limit: int = 60) -> str:
    """``text`` quoted for a one-line message: escapes shown, long text cut short."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)
