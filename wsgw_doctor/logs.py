"""Logging set-up for the command line, with secrets kept out of botocore's debug output.

At ``-vv`` botocore logs every request, headers included; the ``Authorization`` header
names the access key and ``X-Amz-Security-Token`` is a live session token. The filter
rewrites those values before any handler sees them.
"""

from __future__ import annotations

import logging
import re
import sys

_SECRET = re.compile(
    r"""(?P<name>['"]?(?:Authorization|X-Amz-Security-Token|aws_secret_access_key|"""
    r"""aws_session_token|SecretAccessKey|SessionToken)['"]?\s*[:=]\s*)"""
    r"""(?P<value>b?'[^']*'|b?"[^"]*"|\S+)""",
    re.IGNORECASE,
)
_REDACTED = "<redacted>"


class RedactSecrets(logging.Filter):
    """Replace credential values in a record's final message; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET.sub(lambda m: m.group("name") + _REDACTED, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure(verbose: int) -> None:
    """WARNING by default, INFO with ``-v``, DEBUG with ``-vv`` (botocore's too)."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = _Handler(sys.stderr)
    handler.setFormatter(logging.Formatter("wsgw-doctor: %(levelname)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    for name, wanted in (("wsgw_doctor", True), ("botocore", verbose >= 2)):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, _Handler)]:
            logger.removeHandler(old)
        if wanted:
            logger.addHandler(handler)
            logger.setLevel(level)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The command line's own handler, so that a second set-up replaces it."""
