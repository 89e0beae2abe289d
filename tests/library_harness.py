"""Runs django-aws-api-gateway-websockets against moto and records each AWS call it makes.

Each call is recorded as the IAM action and resource AWS authorizes it on, worked out from
botocore's own service model (HTTP method and request URI), so the test that uses this
compares the catalog with what the library really sends rather than with another table.
"""

from __future__ import annotations

import importlib
import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from functools import cache
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import boto3
import django
import moto
import pytest
from botocore.client import BaseClient
from botocore.parsers import create_parser
from botocore.validate import validate_parameters
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from moto.core import DEFAULT_ACCOUNT_ID

REGION = "us-east-1"
ACCOUNT = DEFAULT_ACCOUNT_ID
LIBRARY_APP = "django_aws_api_gateway_websockets"

#: The services the library may call; anything else is a finding in itself.
LIBRARY_SERVICES = frozenset({"apigatewayv2", "apigatewaymanagementapi"})

#: The error each service answers an IAM denial with (both are modeled in botocore).
_DENIAL_CODES = {
    "apigatewayv2": "AccessDeniedException",
    "apigatewaymanagementapi": "ForbiddenException",
}

_NO_SUCH_FILE = "/nonexistent/wsgw-doctor-tests"

#: Fake credentials, and no configuration file that could name a real profile.
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": _NO_SUCH_FILE,
    "AWS_SHARED_CREDENTIALS_FILE": _NO_SUCH_FILE,
}

_ENV_TO_CLEAR = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION")


@dataclass(frozen=True)
class Call:
    """One AWS call the library made, as IAM sees it."""

    service: str
    operation: str
    action: str
    resource: str
    params: Mapping[str, Any] = field(compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.operation}: {self.action} on {self.resource}"


def describe_call(client: BaseClient, operation_name: str, params: Mapping[str, Any]) -> Call:
    """The IAM action and resource of a call, from the client's service model and parameters.

    API Gateway management calls are authorized as ``apigateway:<METHOD>`` on the request
    path without its ``/v2`` prefix; a post to a connection as ``execute-api:ManageConnections``
    on the connection's path under the API, stage and method taken from the endpoint URL.
    """
    service_model = client.meta.service_model
    service = service_model.service_name
    model = service_model.operation_model(operation_name)
    method = model.http["method"]
    path = _request_path(model.http["requestUri"], model.input_shape, params)
    operation = f"{service}.{operation_name}"
    partition, region = client.meta.partition, client.meta.region_name

    if service == "apigatewayv2":
        resource = f"arn:{partition}:apigateway:{region}::{path.removeprefix('/v2')}"
        return Call(service, operation, f"apigateway:{method}", resource, params)

    if service == "apigatewaymanagementapi":
        api_id, stage = _management_endpoint(client.meta.endpoint_url)
        resource = f"arn:{partition}:execute-api:{region}:{ACCOUNT}:{api_id}/{stage}/{method}{path}"
        return Call(service, operation, "execute-api:ManageConnections", resource, params)

    return Call(service, operation, "", "", params)


def _request_path(request_uri: str, input_shape: Any, params: Mapping[str, Any]) -> str:
    """The request URI with each ``{locationName}`` filled from the call's parameters."""
    path = request_uri.split("?", 1)[0]
    members = input_shape.members if input_shape is not None else {}
    for name, member in members.items():
        if member.serialization.get("location") != "uri":
            continue
        location_name = member.serialization.get("name", name)
        for placeholder in (f"{{{location_name}}}", f"{{{location_name}+}}"):
            path = path.replace(placeholder, str(params[name]))
    if "{" in path:
        raise AssertionError(f"unfilled request URI {path!r} for {request_uri!r}")
    return path


def _management_endpoint(endpoint_url: str) -> tuple[str, str]:
    """The API id and stage of ``https://{api_id}.execute-api.{region}.amazonaws.com/{stage}``."""
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    return host.split(".", 1)[0], parts.path.strip("/")


@dataclass
class _Denial:
    action: str
    resource: str

    def matches(self, call: Call) -> bool:
        return call.action.lower() == self.action.lower() and fnmatchcase(
            call.resource, self.resource
        )


@dataclass
class RecordingAws:
    """Sits in front of every botocore call: records it, denies it if asked, or answers it.

    moto answers every call except the few below, which it does not implement or answers
    without fields the library reads; those are answered here the way AWS documents them:

    * ``apigatewayv2.CreateDeployment`` and ``apigatewayv2.GetDeployment``: moto has no
      deployments for API Gateway v2 (it replies 404 "Not yet implemented"). The answers
      are the documented response bodies, parsed by botocore against the operation's output
      shape, after botocore has validated the library's parameters.
    * ``apigatewayv2.GetStage``: moto replies but leaves out ``DeploymentId``, which AWS
      sets to the stage's deployment once CreateDeployment names the stage. It is added.
    * ``apigatewayv2.CreateDomainName``: moto stores the domain (so CreateApiMapping finds
      it) but echoes the configuration it was sent, without the ``ApiGatewayDomainName``
      AWS assigns. It is added.
    """

    calls: list[Call] = field(default_factory=list)
    recording: bool = False
    denials: list[_Denial] = field(default_factory=list)
    _deployments: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _stage_deployment: dict[tuple[str, str], str] = field(default_factory=dict)

    def make_api_call(
        self,
        send: Callable[[BaseClient, str, Mapping[str, Any]], dict[str, Any]],
        client: BaseClient,
        operation_name: str,
        params: Mapping[str, Any],
    ) -> dict[str, Any]:
        call = describe_call(client, operation_name, params)
        if self.recording:
            self.calls.append(call)
        if any(denial.matches(call) for denial in self.denials):
            raise _denied(client, call, operation_name)

        if call.operation in ("apigatewayv2.CreateDeployment", "apigatewayv2.GetDeployment"):
            model = client.meta.service_model.operation_model(operation_name)
            validate_parameters(dict(params), model.input_shape)
            return self._answer_deployment(client, operation_name, params)

        response = send(client, operation_name, params)
        if call.operation == "apigatewayv2.GetStage":
            deployment_id = self._stage_deployment.get((params["ApiId"], params["StageName"]))
            if deployment_id:
                response.setdefault("DeploymentId", deployment_id)
        elif call.operation == "apigatewayv2.CreateDomainName":
            for configuration in response.get("DomainNameConfigurations", []):
                configuration.setdefault(
                    "ApiGatewayDomainName",
                    f"d-{secrets.token_hex(5)}.execute-api.{client.meta.region_name}.amazonaws.com",
                )
        return response

    def _answer_deployment(
        self, client: BaseClient, operation_name: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        api_id = params["ApiId"]
        if operation_name == "CreateDeployment":
            deployment_id = secrets.token_hex(3)
            body = {
                "autoDeployed": False,
                "createdDate": datetime.now(timezone.utc).isoformat(),
                "deploymentId": deployment_id,
                "deploymentStatus": "DEPLOYED",
                "description": params.get("Description", ""),
            }
            self._deployments[(api_id, deployment_id)] = body
            if params.get("StageName"):
                self._stage_deployment[(api_id, params["StageName"])] = deployment_id
            return _parsed(client, operation_name, 201, body)

        found = self._deployments.get((api_id, params["DeploymentId"]))
        if found is None:
            error = client.exceptions.NotFoundException
            raise error(
                _error_response("NotFoundException", 404, "Invalid Deployment identifier"),
                operation_name,
            )
        return _parsed(client, operation_name, 200, found)


def _parsed(client: BaseClient, operation_name: str, status: int, body: dict[str, Any]) -> Any:
    """A JSON body as API Gateway sends it, parsed the way botocore parses a real reply."""
    model = client.meta.service_model.operation_model(operation_name)
    parser = create_parser(client.meta.service_model.protocol)
    raw = {"status_code": status, "headers": {}, "body": json.dumps(body).encode()}
    return parser.parse(raw, model.output_shape)


def _error_response(code: str, status: int, message: str) -> dict[str, Any]:
    return {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
    }


def _denied(client: BaseClient, call: Call, operation_name: str) -> Exception:
    """The 403 that AWS answers a call with when IAM denies it."""
    code = _DENIAL_CODES[call.service]
    message = (
        f"User: arn:aws:iam::{ACCOUNT}:user/test is not authorized to perform: "
        f"{call.action} on resource: {call.resource}"
    )
    error_class = client.exceptions.from_code(code)
    return error_class(_error_response(code, 403, message), operation_name)


def configure_django() -> None:
    """Settings for the library on an in-memory SQLite database, migrated once."""
    if not settings.configured:
        settings.configure(
            SECRET_KEY="wsgw-doctor-tests",
            USE_TZ=True,
            INSTALLED_APPS=[
                "django.contrib.auth",
                "django.contrib.contenttypes",
                "django.contrib.sessions",
                LIBRARY_APP,
            ],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            AWS_GATEWAY_REGION_NAME=REGION,
            WEBSOCKETS={},
        )
        django.setup()
    if not apps.is_installed(LIBRARY_APP):
        raise RuntimeError(f"Django is already configured without {LIBRARY_APP}")
    _migrate()


@cache
def _migrate() -> None:
    call_command("migrate", verbosity=0)


@dataclass
class Harness:
    """The library's models, and the AWS recorder in front of every call they make."""

    aws: RecordingAws
    models: ModuleType

    @contextmanager
    def recording(self) -> Iterator[list[Call]]:
        """Record the calls made inside the block, and only those."""
        self.aws.calls.clear()
        self.aws.recording = True
        try:
            yield self.aws.calls
        finally:
            self.aws.recording = False

    @contextmanager
    def denying(self, action: str, resource: str) -> Iterator[None]:
        """Answer calls on ``action`` and a resource matching the ``*`` pattern with a 403."""
        denial = _Denial(action, resource)
        self.aws.denials.append(denial)
        try:
            yield
        finally:
            self.aws.denials.remove(denial)

    def deployed_gateway(self, **fields: Any) -> Any:
        """A gateway provisioned through the library itself, loaded again from the database."""
        values = {
            "api_name": "chat",
            "target_base_endpoint": "https://www.example.com/ws/",
            "domain_name": "ws.example.com",
            "certificate_arn": (
                f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/00000000-0000-0000-0000-000000000001"
            ),
            **fields,
        }
        gateway = self.models.ApiGateway(**values)
        gateway.create_gateway()
        return self.models.ApiGateway.objects.get(pk=gateway.pk)


@contextmanager
def library_harness() -> Iterator[Harness]:
    """The library under moto, with fake credentials and a database rolled back afterwards."""
    configure_django()
    models = importlib.import_module(f"{LIBRARY_APP}.models")
    aws = RecordingAws()
    send = BaseClient._make_api_call

    def make_api_call(client: BaseClient, operation_name: str, params: Any) -> Any:
        return aws.make_api_call(send, client, operation_name, params)

    with pytest.MonkeyPatch.context() as patch, moto.mock_aws():
        for name in _ENV_TO_CLEAR:
            patch.delenv(name, raising=False)
        for name, value in _FAKE_CREDENTIALS.items():
            patch.setenv(name, value)
        patch.setattr(boto3, "DEFAULT_SESSION", None)
        patch.setattr(BaseClient, "_make_api_call", make_api_call)
        models.clear_boto3_client_cache()
        try:
            with transaction.atomic():
                yield Harness(aws, models)
                transaction.set_rollback(True)
        finally:
            models.clear_boto3_client_cache()
