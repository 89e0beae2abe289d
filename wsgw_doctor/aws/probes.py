"""Dry-run probes: real calls on the user's own resources that cannot change anything.

A decision from the simulator or from fetched policies is only as good as what it could
see. A probe asks AWS itself, so it also meets session policies, resource-based and
resource control policies, VPC endpoint policies and condition keys with their real values.
Reads are made as they are; a write is only ever sent to an id that a listing made moments
earlier proves absent, so AWS can answer NotFound or AccessDenied but never do the write.

Probes run as the caller. They say something about the checked principal only when the
caller's credentials are that principal's.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import secrets
import string
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from random import Random
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from wsgw_doctor.catalog import Feature, Ids, RenderedRequirement, context_map, render
from wsgw_doctor.probing import (
    Access,
    Fact,
    ProbeOutcome,
    ProbeReport,
    ProbeStatus,
)

from .probe_allowlist import PROBE_OPERATIONS
from .session import AwsOptions, client_config, error_code, error_message

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

logger = logging.getLogger(__name__)

#: Makes a client: ``(service, region, endpoint_url)``; called before any thread starts.
ClientFactory = Callable[[str, str, "str | None"], Any]


@dataclass(frozen=True)
class ProbeOptions:
    """How patient the probes are: every one is a single cheap request.

    ``wave_timeout`` bounds each of the two rounds of calls, whatever botocore's own
    timeouts and retries add up to.
    """

    concurrency: int = 8
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    max_attempts: int = 2
    wave_timeout: float = 30.0

    @classmethod
    def within(cls, options: AwsOptions) -> ProbeOptions:
        """Probe options no more patient than the live check's own."""
        default = cls()
        return cls(
            concurrency=max(1, min(options.concurrency, default.concurrency)),
            connect_timeout=min(options.connect_timeout, default.connect_timeout),
            read_timeout=min(options.read_timeout, default.read_timeout),
            max_attempts=max(1, min(options.max_attempts, default.max_attempts)),
        )


def probe_config(options: ProbeOptions) -> Config:
    """The botocore config of every probe client: standard retries and short timeouts."""
    from botocore.config import Config

    shared = AwsOptions(
        retry_mode="standard",
        max_attempts=options.max_attempts,
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
    )
    pool = Config(max_pool_connections=max(10, options.concurrency))
    return client_config(shared).merge(pool)


def session_factory(session: boto3.Session, options: ProbeOptions) -> ClientFactory:
    """Clients from ``session``, all with ``probe_config``."""
    config = probe_config(options)

    def make(service: str, region: str, endpoint_url: str | None) -> Any:
        return session.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=endpoint_url,
            config=config,
        )

    return make


# How AWS answers, read as a permission.

_NOT_FOUND = frozenset(
    {"NotFoundException", "ResourceNotFoundException", "NoSuchEntity", "GoneException"}
)
_DENIED = frozenset({"AccessDenied", "AccessDeniedException"})
_THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "PriorRequestNotComplete",
    }
)
_INVALID = frozenset(
    {
        "BadRequestException",
        "ValidationException",
        "InvalidInput",
        "InvalidArnException",
        "InvalidChangeBatch",
        "InvalidParameterValue",
        "PayloadTooLargeException",
    }
)
_CREDENTIALS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "UnauthorizedException",
    }
)
_NOT_AUTHORIZED = re.compile(r"not authorized to perform:?\s*([\w-]+:[\w*]+)?", re.IGNORECASE)
_WHO_DENIED = re.compile(
    r"(because no [\w -]+? allows|with an explicit deny in an? [\w -]+? policy)", re.IGNORECASE
)
_AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)


def classify(error: BaseException, action: str | None = None) -> tuple[Access, str]:
    """What an error says about the permission for ``action``, and why, in one line.

    A lookup that found nothing was authorized, since AWS decides before it looks. A 400 is
    never read as allowed: AWS does not say whether it validates before it authorizes.
    """
    if not isinstance(error, ClientError):
        return Access.UNKNOWN, _transport(error)
    code, message = error_code(error), " ".join(error_message(error).split())
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    denial = _NOT_AUTHORIZED.search(message)
    if denial or code in _DENIED:
        return _denied(code, message, denial, action)
    if code in _NOT_FOUND or code.startswith("NoSuch"):
        return Access.ALLOWED, f"{code}: the lookup ran, so the call was authorized"
    return Access.UNKNOWN, _unknown(code, message, status)


def _denied(
    code: str, message: str, denial: re.Match[str] | None, action: str | None
) -> tuple[Access, str]:
    named = denial.group(1) if denial else None
    if action and named and named.lower() != action.lower():
        return Access.UNKNOWN, f"{code}: AWS denied {named}, not {action}: {message}"
    who = _WHO_DENIED.search(message)
    said = f" ({who.group(1)})" if who else ""
    return Access.DENIED, f"{code or 'AccessDenied'}{said}"


def _unknown(code: str, message: str, status: int) -> str:
    if code in _THROTTLED or status == 429:
        return f"{code}: AWS throttled the call and the retries ran out"
    if code in _CREDENTIALS:
        return f"{code}: AWS did not accept the credentials: {message}"
    if status == 403:
        return _forbidden(code, message)
    if code in _INVALID or status == 400:
        return f"{code}: AWS rejected the request as invalid, which says nothing about IAM"
    if status >= 500:
        return f"{code}: AWS failed to answer ({status})"
    return f"{code or status}: an answer no probe expects: {message}"


def _forbidden(code: str, message: str) -> str:
    if message.lower() in ("", "forbidden"):
        return (
            f"{code}: 403 Forbidden without an IAM message: the API id or stage is wrong, "
            "or the stage was never deployed"
        )
    if "no method found" in message.lower():
        return f"{code}: {message}: the stage or path is wrong"
    return f"{code}: 403 that names no IAM action: {message}"


def _transport(error: BaseException) -> str:
    from botocore import exceptions as bx

    if isinstance(error, (bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return f"the call timed out: {error}"
    if isinstance(error, (bx.EndpointConnectionError, bx.ConnectionError)):
        return f"could not reach AWS: {error}"
    if isinstance(error, ResponseParserError):
        return "the answer was not an AWS response"
    return f"{type(error).__name__}: {error}"


# One call, and the two rounds of them.


@dataclass(frozen=True)
class Answer:
    """What one call (all its pages, for a listing) came back with."""

    access: Access
    detail: str
    call: str
    body: Mapping[str, Any] = field(default_factory=dict)
    code: str = ""

    @property
    def answered(self) -> bool:
        """Whether AWS returned the thing asked for, rather than an error."""
        return self.access is Access.ALLOWED and not self.code


@dataclass(frozen=True)
class _Call:
    text: str
    run: Callable[[], Answer]


def _ask(text: str, action: str | None, send: Callable[[], Mapping[str, Any]]) -> Answer:
    try:
        body = send()
    except _AWS_ERRORS as error:
        access, detail = classify(error, action)
        logger.debug("probe %s: %s", text, detail)
        return Answer(access, detail, text, code=error_code(error))
    logger.debug("probe %s: answered", text)
    return Answer(Access.ALLOWED, "AWS answered the call", text, body)


_MAX_PAGES = 40


def _listing(text: str, action: str, fetch: Callable[[str | None], Mapping[str, Any]]) -> Answer:
    """Every page of a listing, so that an id can be proved absent from all of them."""
    items: list[Any] = []
    token: str | None = None
    for _ in range(_MAX_PAGES):
        answer = _ask(text, action, functools.partial(fetch, token))
        if not answer.answered:
            return answer
        items.extend(answer.body.get("Items", ()))
        token = answer.body.get("NextToken")
        if not token:
            return dataclasses.replace(answer, body={"Items": items, "Complete": True})
    return dataclasses.replace(answer, body={"Items": items, "Complete": False})


def _pages(token: str | None) -> dict[str, str]:
    return {"NextToken": token} if token else {}


def _run_wave(calls: Mapping[str, _Call], options: ProbeOptions) -> dict[str, Answer]:
    """Run one round of independent calls on at most ``concurrency`` threads."""
    if not calls:
        return {}
    workers = max(1, min(options.concurrency, len(calls)))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wsgw-doctor-probe")
    futures = {name: pool.submit(call.run) for name, call in calls.items()}
    done, _ = wait(futures.values(), timeout=options.wave_timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    return {
        name: _collect(calls[name], future, future in done, options)
        for name, future in futures.items()
    }


def _collect(call: _Call, future: Future[Answer], done: bool, options: ProbeOptions) -> Answer:
    if not done:
        return Answer(Access.UNKNOWN, f"no answer within {options.wave_timeout:g} s", call.text)
    try:
        return future.result()
    except Exception as error:  # a defect in one probe must not hide the others
        logger.error("probe %s failed: %r", call.text, error)
        return Answer(Access.UNKNOWN, f"the probe failed: {type(error).__name__}", call.text)


# Ids the probes make up, each provably unused.

_ID_ALPHABET = string.ascii_lowercase + string.digits
_CONNECTION_ALPHABET = string.ascii_letters + string.digits
#: A Route 53 change id no change has: the ids Route 53 issues are random, this one is not.
PROBE_CHANGE_ID = "C0WSGWDOCTORPROBE000"
SERVICE_LINKED_ROLE_NAME = "AWSServiceRoleForAPIGateway"


def unused_id(
    taken: Iterable[str], rng: Random, *, alphabet: str = _ID_ALPHABET, default_length: int = 7
) -> str:
    """A well-formed id, as long as the ones listed, that is none of them."""
    listed = {t.lower() for t in taken if t}
    lengths = Counter(len(t) for t in listed)
    length = lengths.most_common(1)[0][0] if lengths else default_length
    for _ in range(100):
        candidate = "".join(rng.choice(alphabet) for _ in range(max(1, length)))
        if candidate.lower() not in listed:
            return candidate
    raise RuntimeError("could not make up an id that is not taken")


def unused_stage(taken: Iterable[str], rng: Random) -> str:
    """A stage name that is none of ``taken`` and says who made it up."""
    listed = {t.lower() for t in taken}
    for _ in range(100):
        name = "wsgw-doctor-probe-" + "".join(rng.choice(_ID_ALPHABET) for _ in range(8))
        if name not in listed:
            return name
    raise RuntimeError("could not make up a stage name that is not taken")


def unused_connection_id(rng: Random) -> str:
    """16 characters like API Gateway's own, random enough that none was ever issued."""
    return "".join(rng.choice(_CONNECTION_ALPHABET) for _ in range(15)) + "="


def _id(value: str | None) -> str:
    """A path id, never empty: an empty one changes the path, and so the resource."""
    if not value:
        raise ValueError("a probe was about to send an empty id")
    return value


# What each probe sends. Every call is written ``c.<service>.<method>(...)``, so that a
# reader, and the test of the allow-list, can see which operation it is.


@dataclass(frozen=True)
class _Clients:
    apigatewayv2: Any = None
    apigateway: Any = None
    apigatewaymanagementapi: Any = None
    acm: Any = None
    route53: Any = None
    iam: Any = None


@dataclass(frozen=True)
class _Run:
    clients: _Clients
    ids: Ids
    rng: Random
    contexts: Mapping[str, Mapping[str, tuple[str, ...]]]


_Builder = Callable[[_Run, Mapping[str, Answer]], "_Call | str"]


def _read(action: str, text: str, send: Callable[[], Mapping[str, Any]]) -> _Call:
    return _Call(text, functools.partial(_ask, text, action, send))


def _paged(text: str, fetch: Callable[[str | None], Mapping[str, Any]]) -> _Call:
    return _Call(text, functools.partial(_listing, text, "apigateway:GET", fetch))


def _get_api(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c, api = run.clients, _id(run.ids.api_id)
    return _read(
        "apigateway:GET", f"GetApi(ApiId={api})", lambda: c.apigatewayv2.get_api(ApiId=api)
    )


def _get_routes(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c, api = run.clients, _id(run.ids.api_id)
    return _paged(
        f"GetRoutes(ApiId={api})", lambda t: c.apigatewayv2.get_routes(ApiId=api, **_pages(t))
    )


def _get_integrations(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c, api = run.clients, _id(run.ids.api_id)
    return _paged(
        f"GetIntegrations(ApiId={api})",
        lambda t: c.apigatewayv2.get_integrations(ApiId=api, **_pages(t)),
    )


def _get_stages(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c, api = run.clients, _id(run.ids.api_id)
    return _paged(
        f"GetStages(ApiId={api})", lambda t: c.apigatewayv2.get_stages(ApiId=api, **_pages(t))
    )


def _get_stage(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c, api, stage = run.clients, _id(run.ids.api_id), _id(run.ids.stage)
    return _read(
        "apigateway:GET",
        f"GetStage(ApiId={api}, StageName={stage})",
        lambda: c.apigatewayv2.get_stage(ApiId=api, StageName=stage),
    )


def _get_account(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c = run.clients
    return _read("apigateway:GET", "GetAccount()", lambda: c.apigateway.get_account())


def _get_domain_name(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c, domain = run.clients, _id(run.ids.domain)
    return _read(
        "apigateway:GET",
        f"GetDomainName(DomainName={domain})",
        lambda: c.apigatewayv2.get_domain_name(DomainName=domain),
    )


def _get_api_mappings(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c, domain = run.clients, _id(run.ids.domain)
    return _paged(
        f"GetApiMappings(DomainName={domain})",
        lambda t: c.apigatewayv2.get_api_mappings(DomainName=domain, **_pages(t)),
    )


def _describe_certificate(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c, arn = run.clients, _id(run.ids.certificate_arn)
    return _read(
        "acm:DescribeCertificate",
        f"DescribeCertificate(CertificateArn={arn})",
        lambda: c.acm.describe_certificate(CertificateArn=arn),
    )


def _get_hosted_zone(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c, zone = run.clients, _id(run.ids.hosted_zone_id)
    return _read(
        "route53:GetHostedZone",
        f"GetHostedZone(Id={zone})",
        lambda: c.route53.get_hosted_zone(Id=zone),
    )


def _list_records(run: _Run, _: Mapping[str, Answer]) -> _Call:
    """One page from the domain's own name: enough to see its A record, if there is one."""
    c, zone, domain = run.clients, _id(run.ids.hosted_zone_id), _id(run.ids.domain)
    return _read(
        "route53:ListResourceRecordSets",
        f"ListResourceRecordSets(HostedZoneId={zone}, StartRecordName={domain})",
        lambda: c.route53.list_resource_record_sets(
            HostedZoneId=zone, StartRecordName=domain, StartRecordType="A", MaxItems="1"
        ),
    )


def _get_change(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c = run.clients
    return _read(
        "route53:GetChange",
        f"GetChange(Id={PROBE_CHANGE_ID})",
        lambda: c.route53.get_change(Id=PROBE_CHANGE_ID),
    )


def _get_role(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c = run.clients
    return _read(
        "iam:GetRole",
        f"GetRole(RoleName={SERVICE_LINKED_ROLE_NAME})",
        lambda: c.iam.get_role(RoleName=SERVICE_LINKED_ROLE_NAME),
    )


def _get_deployment(run: _Run, found: Mapping[str, Answer]) -> _Call | str:
    stage = found.get("GetStage")
    deployment = str(stage.body.get("DeploymentId") or "") if stage else ""
    if not deployment:
        detail = stage.detail if stage and not stage.answered else "none is set"
        return f"the stage's deployment id is not known ({detail})"
    c, api = run.clients, _id(run.ids.api_id)
    return _read(
        "apigateway:GET",
        f"GetDeployment(ApiId={api}, DeploymentId={deployment})",
        lambda: c.apigatewayv2.get_deployment(ApiId=api, DeploymentId=deployment),
    )


def _taken(found: Mapping[str, Answer], listing: str, key: str) -> frozenset[str] | str:
    """The ids a listing holds, or why none can be proved unused."""
    answer = found.get(listing)
    if answer is None:
        return f"{listing} was not called"
    if not answer.answered:
        return f"{listing} failed ({answer.detail}), so no id can be proved unused"
    if not answer.body.get("Complete"):
        return f"{listing} did not finish in {_MAX_PAGES} pages, so no id can be proved unused"
    return frozenset(str(item.get(key, "")) for item in answer.body.get("Items", ()))


def _update_route(run: _Run, found: Mapping[str, Answer]) -> _Call | str:
    taken = _taken(found, "GetRoutes", "RouteId")
    if isinstance(taken, str):
        return taken
    c, api, route = run.clients, _id(run.ids.api_id), unused_id(taken, run.rng)
    return _read(
        "apigateway:PATCH",
        f"UpdateRoute(ApiId={api}, RouteId={route})",
        lambda: c.apigatewayv2.update_route(ApiId=api, RouteId=route),
    )


def _delete_route(run: _Run, found: Mapping[str, Answer]) -> _Call | str:
    taken = _taken(found, "GetRoutes", "RouteId")
    if isinstance(taken, str):
        return taken
    c, api, route = run.clients, _id(run.ids.api_id), unused_id(taken, run.rng)
    return _read(
        "apigateway:DELETE",
        f"DeleteRoute(ApiId={api}, RouteId={route})",
        lambda: c.apigatewayv2.delete_route(ApiId=api, RouteId=route),
    )


def _update_integration(run: _Run, found: Mapping[str, Answer]) -> _Call | str:
    taken = _taken(found, "GetIntegrations", "IntegrationId")
    if isinstance(taken, str):
        return taken
    c, api, ident = run.clients, _id(run.ids.api_id), unused_id(taken, run.rng)
    return _read(
        "apigateway:PATCH",
        f"UpdateIntegration(ApiId={api}, IntegrationId={ident})",
        lambda: c.apigatewayv2.update_integration(ApiId=api, IntegrationId=ident),
    )


def _delete_integration(run: _Run, found: Mapping[str, Answer]) -> _Call | str:
    taken = _taken(found, "GetIntegrations", "IntegrationId")
    if isinstance(taken, str):
        return taken
    c, api, ident = run.clients, _id(run.ids.api_id), unused_id(taken, run.rng)
    return _read(
        "apigateway:DELETE",
        f"DeleteIntegration(ApiId={api}, IntegrationId={ident})",
        lambda: c.apigatewayv2.delete_integration(ApiId=api, IntegrationId=ident),
    )


def _update_stage(run: _Run, found: Mapping[str, Answer]) -> _Call | str:
    """A PATCH of an unused stage, carrying the log destination the real one would send."""
    taken = _taken(found, "GetStages", "StageName")
    if isinstance(taken, str):
        return taken
    c, api, stage = run.clients, _id(run.ids.api_id), unused_stage(taken, run.rng)
    context = run.contexts.get("apigatewayv2.UpdateStage", {})
    destination = context.get("apigateway:request/accessloggingdestination", ())
    settings: dict[str, Any] = {}
    if destination:
        log = {"DestinationArn": destination[0], "Format": "$context.requestId"}
        settings["AccessLogSettings"] = log
    return _read(
        "apigateway:PATCH",
        f"UpdateStage(ApiId={api}, StageName={stage})",
        lambda: c.apigatewayv2.update_stage(ApiId=api, StageName=stage, **settings),
    )


def _post_to_connection(run: _Run, _: Mapping[str, Answer]) -> _Call:
    c, connection = run.clients, unused_connection_id(run.rng)
    return _read(
        "execute-api:ManageConnections",
        f"PostToConnection(ConnectionId={connection})",
        lambda: c.apigatewaymanagementapi.post_to_connection(ConnectionId=connection, Data=b"{}"),
    )


_FIRST: Mapping[str, _Builder] = {
    "GetApi": _get_api,
    "GetRoutes": _get_routes,
    "GetIntegrations": _get_integrations,
    "GetStage": _get_stage,
    "GetStages": _get_stages,
    "GetAccount": _get_account,
    "GetDomainName": _get_domain_name,
    "GetApiMappings": _get_api_mappings,
    "DescribeCertificate": _describe_certificate,
    "GetHostedZone": _get_hosted_zone,
    "ListResourceRecordSets": _list_records,
    "GetChange": _get_change,
    "GetRole": _get_role,
}
_SECOND: Mapping[str, _Builder] = {
    "GetDeployment": _get_deployment,
    "UpdateRoute": _update_route,
    "DeleteRoute": _delete_route,
    "UpdateIntegration": _update_integration,
    "DeleteIntegration": _delete_integration,
    "UpdateStage": _update_stage,
    "PostToConnection": _post_to_connection,
}
_SERVICE_OF = {operation: service for service, operation in PROBE_OPERATIONS}

#: The services probes may call without an endpoint of their own, in a stable order.
PROBE_SERVICES = tuple(sorted({s for s, _ in PROBE_OPERATIONS} - {"apigatewaymanagementapi"}))
#: What each second-round call needs from the first.
_NEEDS: Mapping[str, tuple[str, ...]] = {
    "GetDeployment": ("GetStage",),
    "UpdateRoute": ("GetRoutes",),
    "DeleteRoute": ("GetRoutes",),
    "UpdateIntegration": ("GetIntegrations",),
    "DeleteIntegration": ("GetIntegrations",),
    "UpdateStage": ("GetStages",),
    "PostToConnection": ("GetStage",),
}
_API_SCOPED = frozenset(
    {"GetApi", "GetRoutes", "GetIntegrations", "GetStage", "GetStages", *_SECOND}
)
_STAGE_SCOPED = frozenset({"GetDeployment", "PostToConnection"})


# Which requirements are probed, and which are not.

#: Operations with a probe, by the name of the call that probes them.
PROBED = frozenset(
    {
        "apigatewayv2.GetApi",
        "apigatewayv2.GetRoutes",
        "apigatewayv2.GetIntegrations",
        "apigatewayv2.GetStage",
        "apigatewayv2.GetDeployment",
        "apigatewayv2.UpdateRoute",
        "apigatewayv2.DeleteRoute",
        "apigatewayv2.UpdateIntegration",
        "apigatewayv2.DeleteIntegration",
        "apigatewayv2.UpdateStage",
        "apigatewaymanagementapi.PostToConnection",
        "apigateway.GetAccount",
        "acm.DescribeCertificate",
        "route53.GetChange",
    }
)
_NO_SAFE_PROBE: Mapping[str, str] = {
    "apigatewayv2.CreateApi": "every well-formed CreateApi creates an API",
    "apigatewayv2.CreateIntegration": "every well-formed CreateIntegration creates one",
    "apigatewayv2.CreateRoute": "CreateRoute creates the route unless its key is taken",
    "apigatewayv2.CreateStage": "CreateStage creates the stage unless its name is taken",
    "apigatewayv2.CreateDeployment": "CreateDeployment naming the stage redeploys it",
    "apigatewayv2.CreateDomainName": "CreateDomainName creates the domain",
    "apigatewayv2.CreateApiMapping": "CreateApiMapping creates the mapping",
    "apigatewayv2.UpdateApi": "UpdateApi is a real write even with the values it already has",
    "apigateway.UpdateAccount": "UpdateAccount changes a setting of the whole region",
    "iam.PassRole": "PassRole is only ever checked inside another call",
    "iam.CreateServiceLinkedRole": "CreateServiceLinkedRole creates the role",
    "logs.CreateLogGroup": "CreateLogGroup creates the log group",
    "route53.ChangeResourceRecordSets": (
        "Route 53 has no dry run, and a condition on the record can deny a stand-in change "
        "that the real one passes"
    ),
}
#: The ids a probe must be given; the others (log group, role) are only ever sent as data.
_PROBE_IDS = ("api_id", "stage", "domain", "hosted_zone_id", "certificate_arn")
#: First-round reads for the facts: the ids each needs, and the operations it serves. An
#: empty set means it serves every probe on the API.
_FACT_CALLS: Mapping[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "GetApi": (("api_id",), frozenset()),
    "GetAccount": ((), frozenset({"apigateway.GetAccount", "apigateway.UpdateAccount"})),
    "GetRole": ((), frozenset({"iam.CreateServiceLinkedRole"})),
    "GetDomainName": (
        ("domain",),
        frozenset({"apigatewayv2.CreateApiMapping", "route53.ChangeResourceRecordSets"}),
    ),
    "GetApiMappings": (("domain",), frozenset({"apigatewayv2.CreateApiMapping"})),
    "GetHostedZone": (("hosted_zone_id",), frozenset({"route53.ChangeResourceRecordSets"})),
    "ListResourceRecordSets": (
        ("hosted_zone_id", "domain"),
        frozenset({"route53.ChangeResourceRecordSets"}),
    ),
}


def _call_name(operation: str) -> str:
    return operation.rsplit(".", 1)[-1]


def _why_not_probed(item: RenderedRequirement) -> str | None:
    """Why a requirement gets no probe at all, or ``None`` if it can have one."""
    operation = item.requirement.operation
    if operation not in PROBED:
        return "no safe probe: " + _NO_SAFE_PROBE.get(operation, "none is known for it")
    names = [n for n in item.requirement.placeholders() if n in _PROBE_IDS]
    fresh = [n for n in names if n in item.requirement.fresh]
    if fresh:
        return f"the {fresh[0]} is of a resource this feature creates, so it cannot exist yet"
    guessed = [n for n in names if n in item.representative]
    if guessed:
        return f"no {guessed[0]} was given, and representative ids are never probed"
    return None


def _probed_calls(items: Iterable[RenderedRequirement]) -> frozenset[str]:
    return frozenset(
        _call_name(i.requirement.operation) for i in items if _why_not_probed(i) is None
    )


def _first_round(items: list[RenderedRequirement], ids: Ids) -> frozenset[str]:
    """The first-round calls: probes, the listings and reads they need, and the facts."""
    names = set(_probed_calls(items))
    names |= {need for name in names for need in _NEEDS.get(name, ())}
    operations = {item.requirement.operation for item in items}
    for name, (needs, serves) in _FACT_CALLS.items():
        relevant = operations & serves if serves else names & _API_SCOPED
        if relevant and all(getattr(ids, n) for n in needs):
            names.add(name)
    return frozenset(names & set(_FIRST))


# Running them.


def run_probes(
    clients: ClientFactory | boto3.Session,
    features: Iterable[Feature],
    ids: Ids,
    decisions: Mapping[tuple[str, str], str] | Callable[[], Mapping[tuple[str, str], str]],
    *,
    options: ProbeOptions | None = None,
    rng: Random | None = None,
) -> ProbeReport:
    """Probe every requirement of ``features`` that has a safe probe, in two rounds.

    ``decisions`` maps ``(feature, operation)`` to what the policies decided: a result's
    status (``allowed``, ``missing``, ``denied``, ``undetermined``, ``error``) or an engine
    decision (``allowed``, ``implicitDeny``, ``explicitDeny``). ``clients`` is a boto3
    session, or a factory of clients that already carry ``probe_config``. ``decisions``
    may be a function, called once every call has been answered: so the probes can be sent
    while the decisions are still being made.
    """
    options = options or ProbeOptions()
    factory = clients if callable(clients) else session_factory(clients, options)
    items = [render(f, r, ids) for f in features for r in f.requirements]
    first = _first_round(items, ids)
    second = _probed_calls(items) & set(_SECOND)
    contexts = {i.requirement.operation: context_map(i.context) for i in items}
    made = _make_clients(factory, first | second, ids)
    run = _Run(made, ids, rng or secrets.SystemRandom(), contexts)

    found = _run_wave({n: _first_call(n, run) for n in sorted(first)}, options)
    skipped = _skipped_after_first(found, ids)
    calls, reasons = _second_round(second - set(skipped), run, found)
    found.update(_run_wave(calls, options))

    decided = decisions() if callable(decisions) else decisions
    outcomes = tuple(_outcome(i, decided, found, {**skipped, **reasons}) for i in items)
    return ProbeReport(outcomes, facts_from(found, ids), _notes(found))


def _first_call(name: str, run: _Run) -> _Call:
    built = _FIRST[name](run, {})
    if isinstance(built, str):
        raise TypeError(f"the first-round probe {name} cannot depend on another")
    return built


def _make_clients(factory: ClientFactory, names: frozenset[str], ids: Ids) -> _Clients:
    """Every client the two rounds can use, made now, before any thread starts."""
    made: dict[str, Any] = {}
    for service in sorted({_SERVICE_OF[n] for n in names}):
        region, endpoint = ids.region, None
        if service == "acm" and ids.certificate_arn:
            region = arn_region(ids.certificate_arn) or ids.region
        if service == "apigatewaymanagementapi":
            endpoint = management_endpoint(ids)
        made[service] = factory(service, region, endpoint)
    return _Clients(**made)


def management_endpoint(ids: Ids) -> str:
    """Where the stage's connections are managed: its own execute-api host and stage."""
    host = f"{_id(ids.api_id)}.execute-api.{ids.region}.{_dns_suffix(ids.partition)}"
    return f"https://{host}/{quote(_id(ids.stage), safe='')}"


@functools.cache
def _dns_suffix(partition: str) -> str:
    from botocore.loaders import create_loader

    for known in create_loader().load_data("partitions")["partitions"]:
        if known["id"] == partition:
            return str(known["outputs"]["dnsSuffix"])
    return "amazonaws.com"


def _skipped_after_first(found: Mapping[str, Answer], ids: Ids) -> dict[str, str]:
    """Calls whose answers say nothing, because the API or stage they ask about is missing."""
    if api_missing(found):
        reason = f"the API {ids.api_id} does not exist in {ids.region}"
        return dict.fromkeys(_API_SCOPED, reason)
    if _stage_missing(found):
        reason = f"the stage {ids.stage} does not exist on the API {ids.api_id}"
        return dict.fromkeys(_STAGE_SCOPED, reason)
    return {}


def api_missing(found: Mapping[str, Answer]) -> bool:
    """Whether a read of the API or of one of its collections found no API."""
    reads = ("GetApi", "GetRoutes", "GetIntegrations", "GetStages")
    return any(found[n].code == "NotFoundException" for n in reads if n in found)


def _stage_missing(found: Mapping[str, Answer]) -> bool:
    stage = found.get("GetStage")
    return stage is not None and stage.code == "NotFoundException"


def _second_round(
    names: Iterable[str], run: _Run, found: Mapping[str, Answer]
) -> tuple[dict[str, _Call], dict[str, str]]:
    """The calls that need first-round answers, and why the others cannot be made."""
    calls: dict[str, _Call] = {}
    reasons: dict[str, str] = {}
    for name in sorted(names):
        built = _SECOND[name](run, found)
        if isinstance(built, str):
            reasons[name] = built
        else:
            calls[name] = built
    return calls, reasons


# Reading the answers against the decisions.

_ALLOWING = frozenset({"allowed"})
_DENYING = frozenset({"implicitDeny", "explicitDeny", "missing", "denied"})
_ALLOWED_YET_DENIED = (
    "the policies allow it, yet AWS denied the real call; something the decision could not "
    "see denies it: a session policy, a resource control policy, a VPC endpoint policy, or "
    "a service control policy condition the simulation had no value for"
)
_DENIED_YET_ALLOWED = (
    "the policies do not allow it, yet AWS allowed the real call; a resource-based policy "
    "may grant it, or the decision hangs on a condition key the simulation had no value for"
)
#: Probes that cannot use the requirement's own resource, and what they used instead.
_STAND_IN = {
    "UpdateStage": "the probe patched an unused stage, not the stage itself",
}


def judge(
    decision: str | None, answer: Answer, stand_in: str | None = None
) -> tuple[ProbeStatus, str]:
    """Whether the answer agrees with the decision, and why, in one line."""
    if answer.access is Access.UNKNOWN:
        return ProbeStatus.INCONCLUSIVE, answer.detail
    expected = _expected(decision)
    if expected is None:
        return ProbeStatus.INCONCLUSIVE, (
            f"the policies left it {decision or 'undecided'}; the real call was "
            f"{answer.access.value}: {answer.detail}"
        )
    if expected is answer.access:
        return ProbeStatus.CONFIRMED, f"{answer.access.value}: {answer.detail}"
    if stand_in:
        return ProbeStatus.INCONCLUSIVE, (
            f"the real call was {answer.access.value} ({answer.detail}), but {stand_in}, "
            "and a policy that names either one explains the difference"
        )
    causes = _ALLOWED_YET_DENIED if expected is Access.ALLOWED else _DENIED_YET_ALLOWED
    return ProbeStatus.CONTRADICTED, f"{causes}. AWS said: {answer.detail}"


def _expected(decision: str | None) -> Access | None:
    if decision in _ALLOWING:
        return Access.ALLOWED
    if decision in _DENYING:
        return Access.DENIED
    return None


def _outcome(
    item: RenderedRequirement,
    decisions: Mapping[tuple[str, str], str],
    found: Mapping[str, Answer],
    skipped: Mapping[str, str],
) -> ProbeOutcome:
    feature, operation = item.feature.name, item.requirement.operation
    name = _call_name(operation)
    reason = _why_not_probed(item) or skipped.get(name)
    if reason is None and name not in found:
        reason = "its probe was not run"
    if reason is not None:
        reason += _slr_note(operation, found)
        return ProbeOutcome(feature, operation, ProbeStatus.NOT_PROBED, reason)
    answer = found[name]
    status, why = judge(decisions.get((feature, operation)), answer, _STAND_IN.get(name))
    observed = None if answer.access is Access.UNKNOWN else answer.access
    return ProbeOutcome(
        feature, operation, status, why, f"{_SERVICE_OF[name]}.{answer.call}", observed
    )


def _slr_note(operation: str, found: Mapping[str, Answer]) -> str:
    role = found.get("GetRole")
    if operation != "iam.CreateServiceLinkedRole" or role is None:
        return ""
    if role.answered:
        return "; the role already exists, so API Gateway will not ask for it"
    return ""


def _notes(found: Mapping[str, Answer]) -> tuple[str, ...]:
    if not found:
        return ()
    return (
        "each probe is a real call recorded in CloudTrail; a denied write probe shows there as "
        "an AccessDenied event and may raise a security alert",
    )


# Facts about the account.


def facts_from(found: Mapping[str, Answer], ids: Ids) -> tuple[Fact, ...]:
    """Every fact the first-round answers establish, sorted by name."""
    facts: list[Fact] = []
    for read in _FACTS:
        facts.extend(read(found, ids))
    return tuple(sorted(facts, key=lambda f: f.name))


def _unreadable(name: str, answer: Answer) -> Fact:
    return Fact(name, None, f"could not be read: {answer.detail}")


def _api_facts(found: Mapping[str, Answer], ids: Ids) -> list[Fact]:
    answer = found.get("GetApi")
    if answer is None:
        return []
    if api_missing(found):
        return [Fact("api.exists", False, f"there is no API {ids.api_id} in {ids.region}")]
    if not answer.answered:
        return [_unreadable("api.exists", answer)]
    protocol = answer.body.get("ProtocolType")
    if protocol != "WEBSOCKET":
        return [Fact("api.exists", False, f"{ids.api_id} is a {protocol} API, not a WebSocket API")]
    return [Fact("api.exists", True, f"the WebSocket API {ids.api_id} exists in {ids.region}")]


def _stage_facts(found: Mapping[str, Answer], ids: Ids) -> list[Fact]:
    answer = found.get("GetStage")
    if answer is None or api_missing(found):
        return []
    if _stage_missing(found):
        return [Fact("stage.exists", False, f"the API {ids.api_id} has no stage {ids.stage}")]
    if not answer.answered:
        return [_unreadable("stage.exists", answer)]
    return [Fact("stage.exists", True, f"the stage {ids.stage} exists")]


def _account_facts(found: Mapping[str, Answer], ids: Ids) -> list[Fact]:
    answer = found.get("GetAccount")
    if answer is None:
        return []
    if not answer.answered:
        return [_unreadable("account.cloudwatch-role", answer)]
    role = answer.body.get("cloudwatchRoleArn")
    if not role:
        detail = f"no CloudWatch role is set for API Gateway in {ids.region}; logging will fail"
        return [Fact("account.cloudwatch-role", False, detail)]
    return [Fact("account.cloudwatch-role", True, f"API Gateway logs to CloudWatch as {role}")]


def _role_facts(found: Mapping[str, Answer], _: Ids) -> list[Fact]:
    answer = found.get("GetRole")
    if answer is None:
        return []
    name = "service-linked-role"
    if answer.answered:
        return [Fact(name, True, "exists, so iam:CreateServiceLinkedRole will not be needed")]
    if answer.code == "NoSuchEntity":
        return [
            Fact(
                name,
                False,
                "does not exist yet: the first WebSocket API or regional domain creates it, "
                "which needs iam:CreateServiceLinkedRole",
            )
        ]
    return [_unreadable(name, answer)]


def arn_region(arn: str) -> str:
    """The region field of an ARN, or ``""``."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else ""


def certificate_covers(names: Iterable[str], domain: str) -> bool:
    """Whether a certificate for ``names`` is valid for ``domain``.

    A wildcard stands for exactly one whole label: ``*.example.com`` covers
    ``ws.example.com`` but neither ``example.com`` nor ``a.ws.example.com``.
    """
    wanted = domain.lower().rstrip(".")
    for name in (n.lower().rstrip(".") for n in names):
        if name == wanted:
            return True
        label, _, rest = wanted.partition(".")
        if name.startswith("*.") and label and label != "*" and rest == name[2:]:
            return True
    return False


def _certificate_facts(found: Mapping[str, Answer], ids: Ids) -> list[Fact]:
    answer = found.get("DescribeCertificate")
    if answer is None:
        return []
    if not answer.answered:
        return [_unreadable("certificate.issued", answer)]
    certificate = answer.body.get("Certificate", {})
    status = certificate.get("Status", "unknown")
    region = arn_region(str(certificate.get("CertificateArn", ids.certificate_arn)))
    facts = [
        Fact("certificate.issued", status == "ISSUED", f"the certificate is {status}"),
        Fact(
            "certificate.region",
            region == ids.region,
            f"the certificate is in {region}, the API in {ids.region}",
        ),
    ]
    if ids.domain:
        names = [certificate.get("DomainName", ""), *certificate.get("SubjectAlternativeNames", [])]
        covered = certificate_covers([n for n in names if n], ids.domain)
        listed = ", ".join(dict.fromkeys(n for n in names if n)) or "no names"
        verb = "covers" if covered else "does not cover"
        facts.append(Fact("certificate.domain", covered, f"{listed} {verb} {ids.domain}"))
    return facts


def _domain_facts(found: Mapping[str, Answer], ids: Ids) -> list[Fact]:
    answer = found.get("GetDomainName")
    if answer is None:
        return []
    if answer.code == "NotFoundException":
        return [Fact("domain.exists", False, f"the domain {ids.domain} is not created yet")]
    if not answer.answered:
        return [_unreadable("domain.exists", answer)]
    facts = [Fact("domain.exists", True, f"the domain {ids.domain} exists")]
    mappings = found.get("GetApiMappings")
    if mappings is not None and ids.api_id and ids.stage:
        facts.append(_mapping_fact(mappings, ids))
    return facts


def _mapping_fact(answer: Answer, ids: Ids) -> Fact:
    if not answer.answered:
        return _unreadable("domain.mapping", answer)
    items = answer.body.get("Items", ())
    mapped = any(m.get("ApiId") == ids.api_id and m.get("Stage") == ids.stage for m in items)
    verb = "is" if mapped else "is not"
    return Fact("domain.mapping", mapped, f"{ids.domain} {verb} mapped to {ids.api_id}/{ids.stage}")


def _zone_facts(found: Mapping[str, Answer], ids: Ids) -> list[Fact]:
    answer = found.get("GetHostedZone")
    if answer is None:
        return []
    if answer.code == "NoSuchHostedZone":
        return [Fact("hosted-zone.exists", False, f"there is no hosted zone {ids.hosted_zone_id}")]
    if not answer.answered:
        return [_unreadable("hosted-zone.exists", answer)]
    zone = str(answer.body.get("HostedZone", {}).get("Name", "")).rstrip(".").lower()
    facts = [Fact("hosted-zone.exists", True, f"the hosted zone {ids.hosted_zone_id} is {zone}")]
    if ids.domain:
        inside = ids.domain == zone or ids.domain.endswith("." + zone)
        verb = "is" if inside else "is not"
        facts.append(Fact("hosted-zone.domain", inside, f"{ids.domain} {verb} in {zone}"))
    records = found.get("ListResourceRecordSets")
    if records is not None and ids.domain:
        facts.append(_record_fact(records, found.get("GetDomainName"), ids.domain))
    return facts


def _record_fact(answer: Answer, domain_answer: Answer | None, domain: str) -> Fact:
    if not answer.answered:
        return _unreadable("dns.record", answer)
    records = answer.body.get("ResourceRecordSets", ())
    record = next(
        (r for r in records if _dns_name(r.get("Name")) == domain and r.get("Type") == "A"), None
    )
    if record is None:
        return Fact("dns.record", False, f"there is no A record for {domain} yet")
    target = _dns_name(record.get("AliasTarget", {}).get("DNSName")).removeprefix("dualstack.")
    expected = _domain_target(domain_answer)
    if expected and target != expected:
        return Fact(
            "dns.record", False, f"the A record points at {target or 'no alias'}, not {expected}"
        )
    return Fact("dns.record", True, f"an A record for {domain} exists")


def _domain_target(answer: Answer | None) -> str:
    if answer is None or not answer.answered:
        return ""
    configurations = answer.body.get("DomainNameConfigurations") or [{}]
    return _dns_name(configurations[0].get("ApiGatewayDomainName"))


def _dns_name(name: object) -> str:
    """A name as Route 53 compares it: lower case, no final dot, ``*`` unescaped."""
    return str(name or "").replace("\\052", "*").rstrip(".").lower()


_FACTS: tuple[Callable[[Mapping[str, Answer], Ids], list[Fact]], ...] = (
    _api_facts,
    _stage_facts,
    _account_facts,
    _role_facts,
    _certificate_facts,
    _domain_facts,
    _zone_facts,
)
